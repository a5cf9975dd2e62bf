/**
 * The queue consumer's traces when tracing is on: a batch of messages stored in one request
 * starts a trace of its own, `listings process` (a consumer span), whose write to the leader
 * continues it. Each message it carries gets its own short `listings receive` span, a trace
 * named by its AMQP message id (`messaging.message.id`), which the batch links to — so a
 * message id leads to the batch and the write that stored it.
 *
 * A message published inside a trace (the scraper's, scraper/traced-publish.ts) carries its W3C
 * `traceparent` in its AMQP headers; its `listings receive` span then links to that producer span
 * — a link, not a parent: per OpenTelemetry's messaging conventions a consumer starts a trace of
 * its own, and one batch gathers messages from many producers' traces.
 */
import { type Link, SpanKind, trace } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from '../../common/http-headers.js';
import { contextFromHeaders, inSpan, tracer } from '../../common/spans.js';
import { tracingOn } from '../../common/tracing.js';

const MESSAGING = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'listings' } as const;

/** Runs `store` (the batch's write and its retries) in the batch's trace. */
export function processSpan<T>(messages: readonly ConsumeMessage[], store: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return store();
  const links: Link[] = messages.map((message) => {
    const producer = producerLink(message);
    const span = tracer.startSpan('listings receive', {
      root: true,
      kind: SpanKind.CONSUMER,
      ...(producer === undefined ? {} : { links: [producer] }),
      attributes: {
        ...MESSAGING,
        'messaging.operation.type': 'receive',
        'messaging.message.id': String(message.properties.messageId ?? ''),
        'messaging.rabbitmq.message.delivery_tag': message.fields.deliveryTag,
      },
    });
    span.end();
    return { context: span.spanContext() };
  });
  const only = messages.length === 1 ? messages[0]?.properties.messageId : undefined;
  return inSpan(
    'listings process',
    {
      root: true,
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        ...MESSAGING,
        'messaging.operation.type': 'process',
        'messaging.batch.message_count': messages.length,
        ...(only === undefined ? {} : { 'messaging.message.id': String(only) }),
      },
    },
    store,
  );
}

/** The producer span a message's `traceparent` header names, if it carries a valid one. */
function producerLink(message: ConsumeMessage): Link | undefined {
  const headers = message.properties.headers;
  const traceparent = headers?.[TRACEPARENT_HEADER];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = headers?.[TRACESTATE_HEADER];
  const producer = trace.getSpanContext(
    contextFromHeaders({
      [TRACEPARENT_HEADER]: traceparent,
      ...(typeof tracestate === 'string' ? { [TRACESTATE_HEADER]: tracestate } : {}),
    }),
  );
  return producer === undefined ? undefined : { context: producer };
}
