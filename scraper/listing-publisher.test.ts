import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ChannelModel, type ConsumeMessage, connect } from 'amqplib';
import { type ListingMessage, listingMessage } from '../schema/listing-message.js';
import { listingsQueueDeclaration } from '../schema/listings-queue.js';
import {
  receiveMessages as receive,
  startTestRabbitmq,
  type TestRabbitmq,
} from '../test-support/rabbitmq.js';
import { PublishError, publishListings } from './listing-publisher.js';

const listings: ListingMessage[] = Array.from({ length: 5 }, (_, n) => ({
  title: `Produs ${n}`,
  url: `https://shop.example/item/${n}`,
  price: 1000 + n,
  currency: 'MDL',
  priceEur: Math.round(((1000 + n) / 19.5) * 100) / 100,
  scrapedAt: '2025-03-01T10:00:00.000Z',
}));

describe('publishListings', () => {
  let rabbit: TestRabbitmq;
  let connection: ChannelModel;
  /** A queue the broker nacks publishes to once it holds maxLength messages. */
  const declareRefusingQueue = async (name: string, maxLength: number, durable: boolean) => {
    const setup = await connection.createChannel();
    await setup.assertQueue(name, {
      durable,
      arguments: { 'x-max-length': maxLength, 'x-overflow': 'reject-publish' },
    });
    await setup.close();
  };
  before(async () => {
    rabbit = await startTestRabbitmq();
    connection = await connect(rabbit.url);
    // The restart test closes it from the broker's side.
    connection.on('error', () => {});
  });
  after(async () => {
    await connection.close();
    await rabbit.stop();
  });

  test('declares the durable queue and sends each listing as persistent JSON with its own messageId', async () => {
    const report = await publishListings(listings, { url: rabbit.url, queue: 'listings' });
    assert.equal(report.retries, 0);
    assert.equal(new Set(report.messageIds).size, listings.length);
    const messages = await receive(connection, 'listings', listings.length);
    assert.deepEqual(
      messages.map((m) => m.properties.messageId),
      report.messageIds,
    );
    for (const [i, m] of messages.entries()) {
      assert.equal(m.properties.deliveryMode, 2, 'persistent');
      assert.equal(m.properties.contentType, 'application/json');
      // Tracing is off in this process: no trace context rides along (scraper/traced-publish.test.ts).
      assert.equal(m.properties.headers?.traceparent, undefined);
      const body = JSON.parse(m.content.toString('utf8'));
      assert.deepEqual(body, listings[i]);
      assert.ok(listingMessage.safeParse(body).success);
    }
    // Durable: declaring it otherwise is refused.
    const probe = await connection.createChannel();
    probe.on('error', () => {});
    await assert.rejects(probe.assertQueue('listings', { durable: false }), /PRECONDITION_FAILED/);
  });

  test('QUEUE_TYPE=quorum declares the queue as the gateway does (schema/listings-queue.ts)', async () => {
    await publishListings(listings.slice(0, 1), {
      url: rabbit.url,
      queue: 'quorum-listings',
      queueType: 'quorum',
    });
    const declare = async (options: object) => {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      await channel.assertQueue('quorum-listings', options);
      await channel.close();
    };
    await declare(listingsQueueDeclaration('quorum')); // the gateway's own: accepted as equivalent
    await assert.rejects(declare({ durable: true }), /PRECONDITION_FAILED - inequivalent arg/);
  });

  test('an existing queue is used as it is, with whatever arguments its owner gave it', async () => {
    const channel = await connection.createChannel();
    await channel.assertQueue('owned', { durable: true, arguments: { 'x-max-length': 1000 } });
    await publishListings(listings.slice(0, 1), { url: rabbit.url, queue: 'owned' });
    assert.equal((await channel.checkQueue('owned')).messageCount, 1);
    await channel.close();
  });

  test('a nacked listing is published again, under the same messageId, until it is confirmed', async () => {
    // A queue that refuses what exceeds 2 messages: the broker nacks the other 3 until a consumer makes room.
    await declareRefusingQueue('small', 2, true);
    let consuming: Promise<ConsumeMessage[]> | undefined;
    const retried: number[] = [];
    const report = await publishListings(listings, {
      url: rabbit.url,
      queue: 'small',
      retry: { attempts: 10, baseDelayMs: 20, maxDelayMs: 200 },
      onRetry: ({ unconfirmed }) => {
        retried.push(unconfirmed);
        consuming ??= receive(connection, 'small', listings.length);
      },
    });
    assert.equal(retried[0], 3, 'the first try had 3 nacks');
    assert.ok(report.retries >= 1);
    const messages = await (consuming as Promise<ConsumeMessage[]>);
    assert.deepEqual(
      messages.map((m) => m.properties.messageId).sort(),
      [...report.messageIds].sort(),
      'every listing once, under the id it was first sent with',
    );
  });

  test('what is never confirmed is a PublishError, not a silent drop', async () => {
    await declareRefusingQueue('full', 0, true);
    await assert.rejects(
      publishListings(listings, { url: rabbit.url, queue: 'full', retry: { attempts: 3, baseDelayMs: 10 } }),
      (error) => {
        assert.ok(error instanceof PublishError);
        assert.equal(error.unconfirmed, 5);
        assert.match(error.message, /^5 of 5 listings not confirmed by RabbitMQ after 3 tries/);
        return true;
      },
    );
  });

  test('an unreachable broker is a PublishError after the tries', async () => {
    const url = new URL(rabbit.url);
    url.port = '1'; // nothing listens there
    await assert.rejects(
      publishListings(listings, { url: url.href, retry: { attempts: 2, baseDelayMs: 10 } }),
      (error) => error instanceof PublishError && error.unconfirmed === 5,
    );
  });

  test('listings nacked until the broker restarts are published after it, on a new connection', async () => {
    // A transient queue that refuses everything; the restart removes it, and the publisher declares it anew.
    await declareRefusingQueue('refusing', 0, false);
    const errors: string[] = [];
    let restarting: Promise<void> | undefined;
    const report = await publishListings(listings, {
      url: rabbit.url,
      queue: 'refusing',
      retry: { attempts: 60, baseDelayMs: 100, maxDelayMs: 500 },
      onRetry: ({ error }) => {
        errors.push((error as Error).message);
        restarting ??= rabbit.restart();
      },
    });
    await restarting;
    assert.match(errors[0] ?? '', /nack/i);
    connection = await connect(rabbit.url);
    connection.on('error', () => {});
    const messages = await receive(connection, 'refusing', listings.length);
    assert.deepEqual(messages.map((m) => m.properties.messageId).sort(), [...report.messageIds].sort());
  });

  test('persistent listings on the durable queue survive a broker restart', async () => {
    const report = await publishListings(listings, { url: rabbit.url, queue: 'kept' });
    await rabbit.restart();
    connection = await connect(rabbit.url);
    connection.on('error', () => {});
    const messages = await receive(connection, 'kept', listings.length);
    assert.deepEqual(
      messages.map((m) => m.properties.messageId),
      report.messageIds,
    );
  });
});
