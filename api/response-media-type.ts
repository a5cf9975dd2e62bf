/**
 * The media type of a GraphQL answer a server writes itself, outside Apollo (a refusal before
 * execution at a node, the gateway's proxy's own answers): the one the client's `Accept` asks for,
 * chosen as Apollo Server chooses it (the same `negotiator`, the same order of preference), so
 * a client gets one media type whoever answers. GraphQL-over-HTTP: `application/graphql-response+json`
 * when the client prefers it, else `application/json` (also when it accepts neither: an answer
 * refusing the request is still JSON, as Apollo's own refusals are).
 */
import type express from 'express';

export const APPLICATION_JSON = 'application/json; charset=utf-8';
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json; charset=utf-8';

/** Apollo's list (ApolloServer.ts, chooseContentTypeForSingleResultResponse): JSON first on a tie. */
const OFFERED = ['application/json', 'application/graphql-response+json'];

/** express's `req.accepts` is the `accepts` package over `negotiator`, as Apollo's choice is. */
export function responseMediaType(req: express.Request): string {
  return req.headers.accept !== undefined && req.accepts(OFFERED) === OFFERED[1]
    ? GRAPHQL_RESPONSE_JSON
    : APPLICATION_JSON;
}
