/**
 * The scraper's publish with tracing on (spans in memory), to a real RabbitMQ: one `listings
 * publish` producer span under the scrape round, and every message as the consumer receives it
 * carries that span's W3C `traceparent` in its AMQP headers (with tracing off, none: see
 * listing-publisher.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { type ChannelModel, connect } from 'amqplib';
import { TRACEPARENT_HEADER } from '../common/http-headers.js';
import { inSpan } from '../common/spans.js';
import { startTracing, type Tracing } from '../common/tracing.js';
import type { ListingMessage } from '../schema/listing-message.js';
import { receiveMessages, startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';
import { publishListings } from './listing-publisher.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let rabbit: TestRabbitmq;
let connection: ChannelModel;

before(async () => {
  tracing = await startTracing({ service: 'ensemble-scraper', endpoint: null, exporter });
  rabbit = await startTestRabbitmq();
  connection = await connect(rabbit.url);
});

after(async () => {
  await connection?.close();
  await rabbit?.stop();
  await tracing?.shutdown();
});

const listings: ListingMessage[] = [1, 2].map((n) => ({
  title: `Produs ${n}`,
  url: `https://shop.example/item/${n}`,
  price: 100 * n,
  currency: 'MDL',
  priceEur: 5 * n,
  scrapedAt: '2025-03-01T10:00:00.000Z',
}));

test('a publish is a producer span in the scrape round; each message carries its traceparent', async () => {
  const report = await inSpan('scrape round', { root: true }, () =>
    publishListings(listings, { url: rabbit.url, queue: 'traced' }),
  );
  const spans = exporter.getFinishedSpans();
  const round = spans.find((s) => s.name === 'scrape round');
  const publish = spans.find((s) => s.name === 'listings publish');
  assert.ok(round && publish, spans.map((s) => s.name).join(', '));
  assert.equal(publish.kind, SpanKind.PRODUCER);
  assert.equal(publish.parentSpanContext?.spanId, round.spanContext().spanId, 'under the scrape round');
  assert.equal(publish.attributes['messaging.destination.name'], 'traced');
  assert.equal(publish.attributes['messaging.batch.message_count'], listings.length);
  const { traceId, spanId } = publish.spanContext();
  const messages = await receiveMessages(connection, 'traced', listings.length);
  assert.deepEqual(
    messages.map((m) => m.properties.messageId),
    report.messageIds,
  );
  for (const m of messages)
    assert.equal(
      m.properties.headers?.[TRACEPARENT_HEADER],
      `00-${traceId}-${spanId}-01`,
      'the publish span',
    );
});
