/**
 * The fast path of `/graphql`: most requests are a query or a mutation whose fields all live on
 * the nodes, and the nodes serve the very same schema. Those are sent on as they came — queries
 * to a healthy node in turn, mutations and uploads to the leader through the LeaderRouter — and
 * the node's answer is relayed unchanged, with no second parse, validation or execution here.
 * Anything else (the gateway's own `cluster` field, GET, batches, subscriptions over HTTP,
 * documents that do not parse) falls through to Apollo Server and the gateway's resolvers.
 */
import express from 'express';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import type { Logger } from 'pino';
import { checkBearer, refusalOf } from '../../common/bearer-token.js';
import type { GatewayMetrics } from '../metrics.js';
import { IDEMPOTENCY_KEY_HEADER, type LeaderRouter } from '../routing/leader-router.js';
import type { NodeResponse } from '../routing/node-http.js';
import type { QueryRouter } from '../routing/query-router.js';
import { NoLeaderError, NoNodeError } from '../routing/routing-errors.js';

/** Root fields the gateway answers itself; an operation selecting one takes the slow path. */
const GATEWAY_FIELDS: ReadonlySet<string> = new Set(['cluster']);
const MAX_JSON_BYTES = 1024 * 1024;
/** Room for the multipart envelope around the largest file. */
const MULTIPART_OVERHEAD = 64 * 1024;
const CACHE_SIZE = 2_000;

type Route = 'query' | 'mutation' | null;

export function graphqlProxy(options: {
  readonly queries: QueryRouter;
  readonly leader: LeaderRouter;
  readonly apiToken: string;
  readonly maxUploadBytes: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}): express.RequestHandler {
  const routes = new Map<string, Route>();
  const routeOf = (query: string, operationName: unknown): Route => {
    const key = `${typeof operationName === 'string' ? operationName : ''}\u0000${query}`;
    let route = routes.get(key);
    if (route === undefined) {
      route = classify(query, typeof operationName === 'string' ? operationName : undefined);
      if (routes.size >= CACHE_SIZE) routes.delete(routes.keys().next().value as string);
      routes.set(key, route);
    }
    return route;
  };
  // Keep the raw bytes: a request that is forwarded goes on exactly as it came, unserialized.
  const json = express.json({
    limit: MAX_JSON_BYTES,
    verify: (req, _res, buf) => {
      (req as express.Request & { rawBody?: Buffer }).rawBody = buf;
    },
  });
  const multipart = express.raw({
    type: 'multipart/form-data',
    limit: options.maxUploadBytes + MULTIPART_OVERHEAD,
  });

  const forward = async (
    res: express.Response,
    kind: 'query' | 'mutation' | 'upload',
    body: Buffer | string,
    headers: Record<string, string>,
  ): Promise<void> => {
    try {
      const answer: NodeResponse =
        kind === 'query'
          ? await options.queries.send(body, headers)
          : await options.leader.send(body, headers);
      options.metrics.requests.inc({ kind, outcome: 'ok' });
      res
        .status(answer.status)
        .type(answer.contentType ?? 'application/json')
        .send(answer.body);
    } catch (error) {
      const [code, outcome] =
        error instanceof NoLeaderError
          ? ['NO_LEADER', 'no_leader']
          : error instanceof NoNodeError
            ? ['SERVICE_UNAVAILABLE', 'unavailable']
            : ['INTERNAL_SERVER_ERROR', 'error'];
      options.metrics.requests.inc({ kind, outcome });
      if (outcome === 'error') options.logger.error({ err: error }, 'forwarding failed');
      const message = outcome === 'error' ? 'Internal server error' : (error as Error).message;
      res
        .status(outcome === 'error' ? 500 : 503)
        .set('retry-after', '1')
        .json({
          errors: [
            { message, extensions: { code, ...(outcome === 'error' ? {} : { retryAfterMs: 1_000 }) } },
          ],
        });
    }
  };

  const refuseUnauthenticated = (req: express.Request, res: express.Response): boolean => {
    const auth = checkBearer(req.headers.authorization, options.apiToken);
    if (auth === 'ok') return false;
    res
      .status(200)
      .json({ data: null, errors: [{ message: refusalOf(auth), extensions: { code: 'UNAUTHENTICATED' } }] });
    return true;
  };

  const passOn = (req: express.Request, contentType: string): Record<string, string> => {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const key = req.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key === 'string') headers[IDEMPOTENCY_KEY_HEADER] = key;
    return headers;
  };

  return (req, res, next) => {
    if (req.is('multipart/form-data')) {
      // Apollo's CSRF rule, kept here: a browser can send multipart without a preflight.
      const preflight = req.headers['apollo-require-preflight'] || req.headers['x-apollo-operation-name'];
      if (!preflight) {
        next();
        return;
      }
      if (refuseUnauthenticated(req, res)) {
        req.resume();
        return;
      }
      multipart(req, res, (err?: unknown) => {
        if (err) {
          next(err);
          return;
        }
        const headers = {
          ...passOn(req, req.headers['content-type'] as string),
          'apollo-require-preflight': 'true',
        };
        void forward(res, 'upload', req.body as Buffer, headers);
      });
      return;
    }
    if (!req.is('application/json')) {
      next();
      return;
    }
    json(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      const body = req.body as { query?: unknown; operationName?: unknown } | undefined;
      const route = body && typeof body.query === 'string' ? routeOf(body.query, body.operationName) : null;
      if (route === null) {
        next();
        return;
      }
      if (route === 'mutation' && refuseUnauthenticated(req, res)) return;
      const raw = (req as express.Request & { rawBody?: Buffer }).rawBody ?? JSON.stringify(body);
      void forward(res, route, raw, passOn(req, 'application/json'));
    });
  };
}

/** Where an operation can go as it is, or null when the gateway must execute it itself. */
export function classify(query: string, operationName?: string): Route {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null; // Apollo answers with the parse error
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    operationName === undefined
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((o) => o.name?.value === operationName);
  if (!operation || operation.operation === 'subscription') return null;
  for (const selection of operation.selectionSet.selections) {
    // Fragments at the root could hide a gateway field; rare enough to take the slow path.
    if (selection.kind !== Kind.FIELD || GATEWAY_FIELDS.has(selection.name.value)) return null;
  }
  return operation.operation;
}
