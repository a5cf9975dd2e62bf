/**
 * The fast path of `/graphql`: most requests are a query or a mutation whose fields all live on
 * the nodes, and the nodes serve the very same schema. Those are sent on as they came — queries
 * to a healthy node in turn, mutations and uploads to the leader through the LeaderRouter — and
 * the node's answer is relayed unchanged, with no second parse, validation or execution here.
 * Anything else (the gateway's own fields such as `cluster`, whose type the schema marks as the
 * answering process's own view; GET, batches, subscriptions over HTTP,
 * documents that do not parse) falls through to Apollo Server and the gateway's resolvers.
 */
import { Readable } from 'node:stream';
import express from 'express';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import type { Logger } from 'pino';
import { preflighted } from '../../api/csrf-prevention.js';
import { errorBody, internalErrorBody } from '../../api/error-response.js';
import { ApiError } from '../../api/errors.js';
import { responseMediaType } from '../../api/response-media-type.js';
import { checkBearer, refusalOf } from '../../common/bearer-token.js';
import type { HttpResponse } from '../../common/http-client.js';
import { IDEMPOTENCY_KEY_HEADER, PREFLIGHTED } from '../../common/http-headers.js';
import { MAX_JSON_BYTES } from '../../common/limits.js';
import type { GatewayMetrics } from '../metrics.js';
import { asApiError } from '../ports/remote-graphql.js';
import type { LeaderRouter } from '../routing/leader-router.js';
import type { QueryRouter } from '../routing/query-router.js';
import type { WriteDocuments } from '../routing/write-documents.js';

/** Room for the multipart envelope around the largest file. */
const MULTIPART_OVERHEAD = 64 * 1024;
const CACHE_SIZE = 2_000;
/** `application/json`, with at most a UTF-8 charset: the only bodies the lean reader takes. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

type Route = 'query' | 'mutation' | null;

/** `Accept` values a node answers exactly as it answers none: JSON (api/response-media-type.ts). */
const NODE_DEFAULT_ACCEPT: ReadonlySet<string> = new Set(['*/*', 'application/json']);

export function graphqlProxy(options: {
  readonly queries: QueryRouter;
  readonly leader: LeaderRouter;
  /** Told of each write document the leader answered, to preview it to the followers. */
  readonly documents?: Pick<WriteDocuments, 'forwarded'>;
  /** Root fields the gateway answers itself (schema/graphql/process-local.ts): their operations take the slow path. */
  readonly ownFields: ReadonlySet<string>;
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
      route = classify(
        query,
        options.ownFields,
        typeof operationName === 'string' ? operationName : undefined,
      );
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

  const okCount = {
    query: options.metrics.requests.labels({ kind: 'query', outcome: 'ok' }),
    mutation: options.metrics.requests.labels({ kind: 'mutation', outcome: 'ok' }),
    upload: options.metrics.requests.labels({ kind: 'upload', outcome: 'ok' }),
  };

  const forward = async (
    req: express.Request,
    res: express.Response,
    kind: 'query' | 'mutation' | 'upload',
    body: Buffer | string,
    headers: Record<string, string>,
    /** A JSON mutation's document, previewed to the followers once the leader has answered. */
    query?: string,
  ): Promise<void> => {
    try {
      let answer: HttpResponse;
      let leaderUrl: string | undefined;
      if (kind === 'query') answer = await options.queries.send(body, headers);
      else {
        const routed = await options.leader.send(body, headers);
        answer = routed;
        leaderUrl = routed.leader.url;
      }
      okCount[kind].inc();
      // The node's bytes as they are: no ETag hash, no charset lookup, no re-serialization.
      res.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'application/json; charset=utf-8',
        'content-length': answer.body.length,
      });
      res.end(answer.body);
      // A document the leader validated and ran (200: GraphQL errors of the write's own included).
      if (query !== undefined && leaderUrl !== undefined && answer.status === 200)
        previewLater(query, leaderUrl);
    } catch (error) {
      // The routers' refusals as the slow path gives them (NO_LEADER, SERVICE_UNAVAILABLE), with 503.
      const refusal = asApiError(error);
      const outcome = !(refusal instanceof ApiError)
        ? 'error'
        : refusal.code === 'NO_LEADER'
          ? 'no_leader'
          : 'unavailable';
      options.metrics.requests.inc({ kind, outcome });
      if (outcome === 'error') options.logger.error({ err: error }, 'forwarding failed');
      res
        .status(outcome === 'error' ? 500 : 503)
        .set('retry-after', '1')
        .type(responseMediaType(req))
        .json(refusal instanceof ApiError ? errorBody(refusal) : internalErrorBody());
    }
  };

  /** Hands a write's document on for preview: nothing there may reach the answered client. */
  const previewLater = (query: string, leaderUrl: string): void => {
    try {
      options.documents?.forwarded(query, leaderUrl);
    } catch (error) {
      options.logger.warn({ err: error }, 'a write document was not handed on for preview');
    }
  };

  const refuseUnauthenticated = (req: express.Request, res: express.Response): boolean => {
    // The node's own refusal (api/auth.ts), answered here before anything is forwarded.
    const auth = checkBearer(req.headers.authorization, options.apiToken);
    if (auth === 'ok') return false;
    res
      .status(200)
      .type(responseMediaType(req))
      .json({ data: null, ...errorBody(ApiError.unauthenticated(refusalOf(auth))) });
    return true;
  };

  const passOn = (req: express.Request, contentType: string): Record<string, string> => {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const key = req.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key === 'string') headers[IDEMPOTENCY_KEY_HEADER] = key;
    // The node picks the answer's media type (and with it the status of a request error) by it;
    // one that changes nothing (fetch's `*/*`) is left out, to keep batches lean.
    const accept = req.headers.accept;
    if (accept !== undefined && !NODE_DEFAULT_ACCEPT.has(accept)) headers.accept = accept;
    return headers;
  };

  /** A parsed JSON request: forwarded as its raw bytes, or handed on (parsed) to Apollo. */
  const dispatch = (
    req: express.Request,
    res: express.Response,
    next: express.NextFunction,
    body: unknown,
    raw: Buffer | undefined,
  ): void => {
    const request = body as { query?: unknown; operationName?: unknown } | null | undefined;
    const route =
      request && typeof request.query === 'string' ? routeOf(request.query, request.operationName) : null;
    if (route === null) {
      req.body = body;
      next();
      return;
    }
    if (route === 'mutation' && refuseUnauthenticated(req, res)) return;
    void forward(
      req,
      res,
      route,
      raw ?? JSON.stringify(body),
      passOn(req, 'application/json'),
      route === 'mutation' ? (request?.query as string) : undefined,
    );
  };

  /** body-parser on bytes already read (a replay of them), for whatever the lean reader declines. */
  const parseRead = (
    req: express.Request,
    res: express.Response,
    next: express.NextFunction,
    raw: Buffer,
  ): void => {
    const replay = Object.assign(Readable.from([raw], { objectMode: false }), {
      headers: req.headers,
    }) as unknown as express.Request;
    json(replay, res, (err?: unknown) => {
      if (err) next(err);
      else dispatch(req, res, next, replay.body, raw);
    });
  };

  return (req, res, next) => {
    // The common case, read without body-parser's machinery: a plain JSON body of a declared
    // length that parses as an object. Anything else read this way (a BOM, bad JSON, not an
    // object, empty) goes through body-parser after all, so its answer is the same as before.
    const length = Number(req.headers['content-length']);
    const contentType = req.headers['content-type'];
    if (
      length >= 0 &&
      length <= MAX_JSON_BYTES &&
      contentType !== undefined &&
      PLAIN_JSON.test(contentType) &&
      (req.headers['content-encoding'] ?? 'identity').toLowerCase() === 'identity'
    ) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('error', (error) => next(Object.assign(error, { status: 400 })));
      req.on('end', () => {
        const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        let body: unknown;
        if (raw[0] === 0x7b /* { */) {
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            body = undefined;
          }
        }
        if (body === undefined) parseRead(req, res, next, raw);
        else dispatch(req, res, next, body, raw);
      });
      return;
    }
    if (req.is('multipart/form-data')) {
      // Apollo's CSRF rule, as the nodes apply it: a browser can send multipart without a preflight.
      // A request without one goes to Apollo here, which refuses it in its own words.
      if (!preflighted(req.headers)) {
        next();
        return;
      }
      if (refuseUnauthenticated(req, res)) {
        req.resume();
        return;
      }
      multipart(req, res, (err?: unknown) => {
        if ((err as { type?: unknown } | undefined)?.type === 'entity.too.large') {
          // The node's own words for it: the limit is the file's, not the envelope's.
          options.metrics.requests.inc({ kind: 'upload', outcome: 'too_large' });
          res
            .status(413)
            .type(responseMediaType(req))
            .json(errorBody(ApiError.payloadTooLarge(options.maxUploadBytes)));
          return;
        }
        if (err) {
          next(err);
          return;
        }
        const headers = { ...passOn(req, req.headers['content-type'] as string), ...PREFLIGHTED };
        void forward(req, res, 'upload', req.body as Buffer, headers);
      });
      return;
    }
    if (!req.is('application/json')) {
      next();
      return;
    }
    json(req, res, (err?: unknown) => {
      if (err) next(err);
      else dispatch(req, res, next, req.body, (req as express.Request & { rawBody?: Buffer }).rawBody);
    });
  };
}

/** Where an operation can go as it is, or null when the gateway must execute it itself. */
export function classify(query: string, ownFields: ReadonlySet<string>, operationName?: string): Route {
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
    if (selection.kind !== Kind.FIELD || ownFields.has(selection.name.value)) return null;
  }
  return operation.operation;
}
