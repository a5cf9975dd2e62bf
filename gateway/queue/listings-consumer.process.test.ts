/**
 * The consumer's batching against a real RabbitMQ, with a writer that records what it is asked
 * (the leader side is tested in ingest.process.test.ts): with the default prefetch, a burst
 * arrives in batches no larger than one upsertListings takes, never more than two at the leader
 * at once, and every message is acked once stored.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import amqp from 'amqplib';
import { pino } from 'pino';
import { type ListingInputDto, MAX_LISTINGS_PER_REQUEST } from '../../api/ports.js';
import { startTestRabbitmq, type TestRabbitmq } from '../../test-support/rabbitmq.js';
import { gatewayConfigSchema } from '../config.js';
import { createMetrics } from '../metrics.js';
import { LeaderRegistry } from '../routing/leader-registry.js';
import type { NodeDirectory } from '../routing/node-directory.js';
import {
  LISTINGS_QUEUE,
  ListingsConsumer,
  type ListingWriter,
  MAX_BATCHES_IN_FLIGHT,
} from './listings-consumer.js';

let mq: TestRabbitmq;

before(async () => {
  mq = await startTestRabbitmq();
});

after(async () => {
  await mq?.stop();
});

/** Stores nothing; remembers every request and how many were out at once. */
class RecordingWriter implements ListingWriter {
  readonly batches: number[] = [];
  readonly singles: string[] = [];
  readonly keys = new Set<string>();
  outstanding = 0;
  mostOutstanding = 0;

  async upsertListing(_input: ListingInputDto, key?: string): Promise<void> {
    this.singles.push(key ?? '');
  }

  async storeListings(inputs: readonly ListingInputDto[], keys: readonly string[]): Promise<void> {
    this.batches.push(inputs.length);
    this.outstanding++;
    this.mostOutstanding = Math.max(this.mostOutstanding, this.outstanding);
    await delay(200); // a slow leader: the next batches pile up meanwhile
    for (const k of keys) this.keys.add(k);
    this.outstanding--;
  }
}

test('a burst with the default prefetch: batches of at most one request’s worth, two at a time, all acked', {
  timeout: 120_000,
}, async () => {
  const messages = 2_500;
  const prefetch = gatewayConfigSchema.parse({
    API_TOKEN: 'consumer-test-token-0123456789',
    CLUSTER_SECRET: 'consumer-test-secret-0123456789',
  }).queuePrefetch;
  assert.ok(
    prefetch > MAX_LISTINGS_PER_REQUEST,
    `the default prefetch (${prefetch}) fills more than one request`,
  );
  const connection = await amqp.connect(mq.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(LISTINGS_QUEUE, { durable: true });
  for (let i = 0; i < messages; i++) {
    channel.sendToQueue(
      LISTINGS_QUEUE,
      Buffer.from(
        JSON.stringify({
          title: `Item ${i}`,
          url: `https://shop.example/consumer/${i}`,
          price: i,
          currency: 'EUR',
          priceEur: i,
          scrapedAt: '2026-11-25T00:00:00Z',
        }),
      ),
      { persistent: true, messageId: `m-${i}`, contentType: 'application/json' },
    );
  }
  await channel.waitForConfirms();

  const writer = new RecordingWriter();
  const consumer = new ListingsConsumer({
    url: mq.url,
    prefetch,
    queueType: 'classic',
    writer,
    metrics: createMetrics(new LeaderRegistry(), { all: () => [] } as unknown as NodeDirectory),
    logger: pino({ level: 'silent' }),
  });
  await consumer.start();
  try {
    while (writer.keys.size < messages) await delay(20);
  } finally {
    // Waits for the batches out, then closes the channel (RabbitMQ has its acks) before the
    // connection: an unacked message would be back in the queue.
    await consumer.stop();
  }
  try {
    assert.equal((await channel.checkQueue(LISTINGS_QUEUE)).messageCount, 0, 'every message acked');
    assert.deepEqual(writer.singles, [], 'no listing sent alone');
    assert.ok(
      writer.batches.every((n) => n <= MAX_LISTINGS_PER_REQUEST),
      `batches ${writer.batches.join(', ')}`,
    );
    assert.ok(Math.max(...writer.batches) > 64, 'batches grow with the load');
    assert.equal(
      writer.batches.reduce((a, b) => a + b, 0),
      messages,
    );
    assert.ok(writer.mostOutstanding <= MAX_BATCHES_IN_FLIGHT);
  } finally {
    await connection.close();
  }
});
