/**
 * Spans made by hand with the OpenTelemetry API (common/tracing.ts says when they are recorded),
 * and the W3C `traceparent` that carries a trace from one process to the next.
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export const tracer = trace.getTracer('ensemble');

/** Marks a span as failed by `error`. */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `fn` in a new span (the active one while `fn` runs), which ends when its promise settles,
 * failed if it rejects. `parent` by default: the active context.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `headers` plus the active span's `traceparent` (and `tracestate`), for the next process. */
export function withTraceContext(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  propagation.inject(context.active(), out);
  return out;
}

/** The context a caller's `traceparent` names (the root context when it has none or a bad one). */
export function contextFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

export type { Attributes, Context, Span };
