/**
 * The gateway's spans around forwarding (when tracing is on): the routing decision (`route
 * write`/`route read`: which node, how many attempts) and each request to a node (`POST
 * /graphql`, a client span whose `traceparent` the request carries — on its own POST or inside
 * its batch's frame — so the node's spans continue the caller's trace).
 */
import { SpanKind } from '@opentelemetry/api';
import { inSpan, type Span, withTraceContext } from '../../common/spans.js';

/** A routing decision as a span; `describe` adds what was decided once it is known. */
export function routeSpan<T>(
  kind: 'write' | 'read',
  fn: () => Promise<T>,
  describe?: (span: Span, result: T) => void,
): Promise<T> {
  return inSpan(`route ${kind}`, {}, async (span) => {
    const result = await fn();
    describe?.(span, result);
    return result;
  });
}

/** One request to a node as a client span; `fn` sends it with the span's `traceparent` added. */
export function nodeRequestSpan<T extends { readonly status: number }>(
  nodeUrl: string,
  headers: Record<string, string>,
  fn: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  return inSpan(
    'POST /graphql',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': 'POST', 'url.full': `${nodeUrl}/graphql` },
    },
    async (span) => {
      const answer = await fn(withTraceContext(headers));
      span.setAttribute('http.response.status_code', answer.status);
      return answer;
    },
  );
}
