/**
 * The scraper's publish when tracing is on: one `listings publish` span (a producer span, under the
 * scrape round) around the whole publish, its retries included, whose W3C `traceparent` (and
 * `tracestate`) every message carries in its AMQP headers — the messages' creation context, which
 * the gateway's consumer links its own trace to (gateway/queue/traced-messages.ts). Off, the
 * messages carry no headers at all.
 */
import { SpanKind } from '@opentelemetry/api';
import { inSpan, withTraceContext } from '../common/spans.js';
import { tracingOn } from '../common/tracing.js';

/** Runs `publish` in the publish span, handing it the headers each message is to carry. */
export function publishSpan<T>(
  queue: string,
  count: number,
  publish: (headers: Readonly<Record<string, string>> | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return publish(undefined);
  return inSpan(
    'listings publish',
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': queue,
        'messaging.operation.type': 'send',
        'messaging.batch.message_count': count,
      },
    },
    () => publish(withTraceContext({})),
  );
}
