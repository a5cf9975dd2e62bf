/**
 * The queue consumer's traces when tracing is on: a batch of messages stored in one request
 * starts a trace of its own, `listings process` (a consumer span), whose write to the leader
 * continues it. Each message it carries gets its own short `listings receive` span, a trace
 * named by its AMQP message id (`messaging.message.id`), which the batch links to — so a
 * message id leads to the batch and the write that stored it.
 */
import { type Link, SpanKind } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { inSpan, tracer } from '../../common/spans.js';
import { tracingOn } from '../../common/tracing.js';

const MESSAGING = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'listings' } as const;

/** Runs `store` (the batch's write and its retries) in the batch's trace. */
export function processSpan<T>(messages: readonly ConsumeMessage[], store: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return store();
  const links: Link[] = messages.map((message) => {
    const span = tracer.startSpan('listings receive', {
      root: true,
      kind: SpanKind.CONSUMER,
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
