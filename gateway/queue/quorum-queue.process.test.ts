/**
 * QUEUE_TYPE=quorum against a real RabbitMQ: the gateway's consumer declares `listings` as the
 * shared declaration has it (the scraper's side is in scraper/listing-publisher.test.ts), a
 * quorum queue whose delivery limit dead-letters to listings.dead; and two gateway replicas
 * consuming it (competing consumers) store each message once between them.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import amqp, { type ChannelModel } from 'amqplib';
import { pino } from 'pino';
import type { ListingInputDto } from '../../api/ports.js';
import type { ListingMessage } from '../../schema/listing-message.js';
import {
  DEAD_LETTER_QUEUE,
  DELIVERY_LIMIT,
  LISTINGS_QUEUE,
  listingsQueueDeclaration,
} from '../../schema/listings-queue.js';
import { startTestRabbitmq, type TestRabbitmq } from '../../test-support/rabbitmq.js';
import { createMetrics } from '../metrics.js';
import { LeaderRegistry } from '../routing/leader-registry.js';
import type { NodeDirectory } from '../routing/node-directory.js';
import { ListingsConsumer, type ListingWriter } from './listings-consumer.js';

let mq: TestRabbitmq;
let connection: ChannelModel;

before(async () => {
  mq = await startTestRabbitmq();
  connection = await amqp.connect(mq.url);
});

// Each test starts from an empty listings queue.
beforeEach(async () => {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  await channel.purgeQueue(LISTINGS_QUEUE).catch(() => {}); // not declared yet: nothing to purge
  await channel.close().catch(() => {});
});

after(async () => {
  await connection?.close();
  await mq?.stop();
});

const listing = (n: number): ListingMessage => ({
  title: `Quorum ${n}`,
  url: `https://shop.example/quorum/${n}`,
  price: n,
  currency: 'EUR',
  priceEur: n,
  scrapedAt: '2026-12-01T00:00:00.000Z',
});

/** Remembers the idempotency key of every listing it is asked to store, slowly. */
class KeyWriter implements ListingWriter {
  readonly keys: string[] = [];
  async upsertListing(_input: ListingInputDto, key?: string): Promise<void> {
    this.keys.push(key ?? '');
  }
  async storeListings(_inputs: readonly ListingInputDto[], keys: readonly string[]): Promise<void> {
    await delay(20); // a leader that takes its time, so that both replicas get deliveries
    this.keys.push(...keys);
  }
}

const consumerOf = (writer: ListingWriter) =>
  new ListingsConsumer({
    url: mq.url,
    prefetch: 5,
    queueType: 'quorum',
    writer,
    metrics: createMetrics(new LeaderRegistry(), { all: () => [] } as unknown as NodeDirectory),
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
  });

/** Publishes the listings as the scraper does (persistent, one messageId each); their ids. */
async function publish(listings: readonly ListingMessage[]): Promise<string[]> {
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(LISTINGS_QUEUE, listingsQueueDeclaration('quorum'));
  const ids = listings.map((l) => {
    const messageId = randomUUID();
    channel.sendToQueue(LISTINGS_QUEUE, Buffer.from(JSON.stringify(l)), { persistent: true, messageId });
    return messageId;
  });
  await channel.waitForConfirms();
  await channel.close();
  return ids;
}

test('a message delivered more than the delivery limit is dead-lettered to listings.dead', async () => {
  const channel = await connection.createChannel();
  await channel.assertQueue(DEAD_LETTER_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const [messageId] = await publish([listing(1)]);
  // A consumer that keeps failing on it: each nack with requeue is one more delivery.
  let deliveries = 0;
  const { consumerTag } = await channel.consume(LISTINGS_QUEUE, (message) => {
    if (!message) return;
    deliveries++;
    channel.nack(message, false, true);
  });
  for (;;) {
    const dead = await channel.get(DEAD_LETTER_QUEUE, { noAck: true });
    if (dead) {
      assert.equal(dead.properties.messageId, messageId);
      break;
    }
    await delay(20);
  }
  await channel.cancel(consumerTag);
  assert.equal(deliveries, DELIVERY_LIMIT + 1, 'the limit, and no more');
  assert.equal((await channel.checkQueue(LISTINGS_QUEUE)).messageCount, 0);
  await channel.close();
});

test('two gateway replicas consuming listings store each message once between them', {
  timeout: 60_000,
}, async () => {
  const [first, second] = [new KeyWriter(), new KeyWriter()];
  const writers = [first, second];
  const consumers = writers.map(consumerOf);
  for (const consumer of consumers) await consumer.start();
  const messages = 200;
  const messageIds = await publish(Array.from({ length: messages }, (_, n) => listing(100 + n)));
  try {
    while (first.keys.length + second.keys.length < messages) await delay(20);
  } finally {
    for (const consumer of consumers) await consumer.stop();
  }
  const stored = [...first.keys, ...second.keys];
  assert.deepEqual([...stored].sort(), messageIds.map((id) => `amqp:${id}`).sort(), 'each message once');
  assert.ok(
    writers.every((w) => w.keys.length > 0),
    `both replicas consumed: ${writers.map((w) => w.keys.length)}`,
  );
});
