/**
 * The spans of a GraphQL request when tracing is on (common/tracing.ts), on a node and on the
 * gateway alike:
 *  - `POST /graphql`, the server span of the HTTP exchange, continuing the caller's
 *    `traceparent` (the gateway's forwarded request, or a client's own);
 *  - `graphql <type> <name>`, the execution by Apollo Server, under it; its name and the
 *    `graphql.operation.*` attributes come from the operation once Apollo has resolved it. A
 *    batched request (graphql-batch-route.ts) gets this span alone, as a server span continuing
 *    its frame's `traceparent`: the batch's HTTP exchange is shared, each request's trace is not.
 * Whatever runs under the execution (resolvers, the node's append) is its child.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type express from 'express';
import { contextFromHeaders, failSpan, tracer } from '../common/spans.js';

/** Runs `handler` in a span that ends with the response. */
function spanned(
  name: string,
  kind: SpanKind,
  handler: express.RequestHandler,
  parentOf: (req: express.Request) => ReturnType<typeof context.active>,
): express.RequestHandler {
  return (req, res, next) => {
    const span = tracer.startSpan(name, { kind }, parentOf(req));
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) failSpan(span, new Error(`answered ${res.statusCode}`));
      span.end();
    });
    const active = trace.setSpan(parentOf(req), span);
    // The body arrives in events emitted outside this call: its listeners run in the span too.
    context.bind(active, req);
    context.with(active, () => handler(req, res, next));
  };
}

/** The server span of `POST /graphql`, continuing the caller's trace. */
export function graphqlServerSpan(): express.RequestHandler {
  return spanned(
    'POST /graphql',
    SpanKind.SERVER,
    (_req, _res, next) => next(),
    (req) => contextFromHeaders(req.headers),
  );
}

/** Apollo's handling of one request (`handler`: expressMiddleware) in an execution span. */
export function graphqlExecutionSpan(handler: express.RequestHandler): express.RequestHandler {
  return spanned('graphql', SpanKind.INTERNAL, handler, () => context.active());
}

/** Names the active execution span after the operation, and marks it failed on errors. */
export const graphqlSpanPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    const span = trace.getActiveSpan();
    if (!span) return;
    return {
      async didResolveOperation({ operation, operationName }) {
        if (!operation) return;
        span.updateName(`graphql ${operation.operation}${operationName ? ` ${operationName}` : ''}`);
        span.setAttribute('graphql.operation.type', operation.operation);
        if (operationName) span.setAttribute('graphql.operation.name', operationName);
      },
      async didEncounterErrors({ errors }) {
        const codes = errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
        span.setAttribute('graphql.error.codes', codes);
        failSpan(span, errors[0]);
      },
    };
  },
};

/** One batched request's execution, continuing its own caller's trace (its frame's `traceparent`). */
export function batchedRequestSpan<T>(
  headers: Readonly<Record<string, string>>,
  batchSize: number,
  fn: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    'graphql',
    { kind: SpanKind.SERVER, attributes: { 'ensemble.batch.size': batchSize } },
    contextFromHeaders(headers),
    async (span) => {
      try {
        return await fn();
      } finally {
        span.end();
      }
    },
  );
}
