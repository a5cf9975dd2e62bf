/**
 * The traces the gateway starts itself (tracing on, spans in memory): a batch of queue messages
 * is a `listings process` trace linked to one `listings receive` span per message, named by its
 * AMQP message id; a file from FTP is a `listings file import` trace named by its sha256; and
 * what they send to the leader (here a span made inside, as the router's would be) continues
 * them — even when the caller was inside another trace.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import type { ConsumeMessage } from 'amqplib';
import { inSpan } from '../common/spans.js';
import { startTracing, type Tracing } from '../common/tracing.js';
import { importSpan } from './ftp/traced-import.js';
import { processSpan } from './queue/traced-messages.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;

before(async () => {
  tracing = await startTracing({ service: 'ensemble-gateway', endpoint: null, exporter });
});
after(() => tracing.shutdown());

const message = (messageId: string, deliveryTag: number) =>
  ({ properties: { messageId }, fields: { deliveryTag } }) as unknown as ConsumeMessage;

const withHeaders = (m: ConsumeMessage, headers: Record<string, string>) =>
  ({ ...m, properties: { ...m.properties, headers } }) as ConsumeMessage;

const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const idOf = (s: ReadableSpan) => s.spanContext().spanId;

test('a batch of messages is a trace of its own, linked to each message by its id; its write continues it', async () => {
  exporter.reset();
  // Inside some other trace (a consumer callback never is, but nothing may leak into one).
  await inSpan('unrelated', {}, () =>
    processSpan([message('m-1', 1), message('m-2', 2)], () => inSpan('the write', {}, async () => 'stored')),
  );
  const [process] = named('listings process');
  const [write] = named('the write');
  const [unrelated] = named('unrelated');
  assert.ok(process && write && unrelated);
  assert.equal(process.parentSpanContext, undefined, 'a root');
  assert.notEqual(process.spanContext().traceId, unrelated.spanContext().traceId);
  assert.equal(process.attributes['messaging.batch.message_count'], 2);
  assert.equal(write.parentSpanContext?.spanId, idOf(process), 'the write continues the batch');
  const received = named('listings receive');
  assert.deepEqual(received.map((s) => s.attributes['messaging.message.id']).sort(), ['m-1', 'm-2']);
  assert.deepEqual(
    process.links.map((l) => l.context.spanId).sort(),
    received.map(idOf).sort(),
    'linked to every message',
  );
});

test("a message published in a trace: its receive span links to the producer's span, the batch stays its own trace", async () => {
  exporter.reset();
  const producer = { traceId: 'a1'.repeat(16), spanId: 'b2'.repeat(8) };
  // As amqplib hands the headers over: the scraper's `traceparent` (scraper/traced-publish.ts), a
  // producer's that does not parse, and none.
  const traced = withHeaders(message('m-traced', 1), {
    traceparent: `00-${producer.traceId}-${producer.spanId}-01`,
  });
  const garbled = withHeaders(message('m-garbled', 2), { traceparent: 'not-a-traceparent' });
  await processSpan([traced, garbled, message('m-plain', 3)], async () => 'stored');
  const receivedBy = (id: string) => {
    const span = named('listings receive').find((s) => s.attributes['messaging.message.id'] === id);
    assert.ok(span, id);
    return span;
  };
  const received = receivedBy('m-traced');
  assert.equal(received.parentSpanContext, undefined, 'a root, not a child of the producer');
  assert.notEqual(received.spanContext().traceId, producer.traceId);
  assert.deepEqual(
    received.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    [producer],
  );
  assert.deepEqual(receivedBy('m-garbled').links, []);
  assert.deepEqual(receivedBy('m-plain').links, []);
  const [process] = named('listings process');
  assert.ok(process);
  assert.equal(process.parentSpanContext, undefined);
  assert.notEqual(process.spanContext().traceId, producer.traceId);
});

test('a file from FTP is a trace of its own, named by its sha256; its upload continues it', async () => {
  exporter.reset();
  const sha256 = 'ab'.repeat(32);
  await importSpan({ path: '/listings/latest.json', sha256, size: 42 }, () =>
    inSpan('the upload', {}, async () => 'stored'),
  );
  const [imported] = named('listings file import');
  const [upload] = named('the upload');
  assert.ok(imported && upload);
  assert.equal(imported.parentSpanContext, undefined);
  assert.equal(imported.attributes['ensemble.file.sha256'], sha256);
  assert.equal(upload.parentSpanContext?.spanId, idOf(imported));
});
