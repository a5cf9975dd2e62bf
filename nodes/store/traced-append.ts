/**
 * The append's spans when tracing is on (common/tracing.ts): `append`, one per caller, from the
 * moment it is queued until its outcome (appended, duplicate, refused by the fence or a
 * version conflict); and `append_batch`, the group-committed transaction that wrote it — one
 * statement that locks the write fence, checks each append and inserts (event-log.ts). A
 * transaction serves several callers but has one parent: the first append of its batch; it
 * links to the others, and each `append` records which transaction wrote it.
 */
import { type Context, context, SpanKind, trace } from '@opentelemetry/api';
import { failSpan, inSpan } from '../../common/spans.js';
import type { AppendResult, Fence, FencedAppend, StreamAppend } from './event-log.js';

/** One caller's append; `submit` queues it, carrying the span's context to its transaction. */
export function appendSpan(
  fence: Fence,
  appends: readonly StreamAppend[],
  submit: (trace: Context) => Promise<AppendResult>,
): Promise<AppendResult> {
  return inSpan(
    'append',
    {
      attributes: {
        'ensemble.fence.term': fence.term,
        'ensemble.fence.node': fence.nodeId,
        'ensemble.streams': appends.map((a) => a.stream),
        'ensemble.events': appends.reduce((n, a) => n + a.events.length, 0),
      },
    },
    async (span) => {
      const result = await submit(context.active());
      span.setAttribute('ensemble.append.outcome', result.kind);
      return result;
    },
  );
}

/** `write` (EventLog.appendBatch) in an `append_batch` span under the batch's first append. */
export function tracedBatchWrite(
  write: (batch: readonly FencedAppend[]) => Promise<PromiseSettledResult<AppendResult>[]>,
): (batch: readonly FencedAppend[]) => Promise<PromiseSettledResult<AppendResult>[]> {
  return (batch) => {
    const [first, ...rest] = batch;
    const links = rest.flatMap((a) => {
      const linked = a.trace && trace.getSpanContext(a.trace);
      return linked ? [{ context: linked }] : [];
    });
    return inSpan(
      'append_batch',
      {
        kind: SpanKind.CLIENT,
        links,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': 'append_batch',
          'db.operation.batch.size': batch.length,
        },
      },
      async (span) => {
        const { spanId } = span.spanContext();
        for (const a of batch)
          if (a.trace) trace.getSpan(a.trace)?.setAttribute('ensemble.append_batch.span_id', spanId);
        const outcomes = await write(batch);
        const refused = outcomes.filter((o) => o.status === 'rejected');
        span.setAttribute('ensemble.refused', refused.length);
        if (refused.length === batch.length && refused[0]) failSpan(span, refused[0].reason);
        return outcomes;
      },
      first?.trace ?? context.active(),
    );
  };
}
