/**
 * A node's HTTP face: express 5 with `GET /healthz` and `/graphql` served by Apollo Server 5
 * (queries, mutations, multipart uploads) plus graphql-ws subscriptions on the same path.
 */
import 'reflect-metadata';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { type DocumentNode, type GraphQLSchema, specifiedRules, validate } from 'graphql';
import { graphqlUploadExpress } from 'graphql-upload-minimal';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { checkBearer } from '../common/bearer-token.js';
import { BATCH_PATH } from '../common/graphql-batch.js';
import { IDEMPOTENCY_KEY_HEADER, REHEARSAL_HEADER } from '../common/http-headers.js';
import { DEFAULT_MAX_UPLOAD_BYTES, MAX_JSON_BYTES } from '../common/limits.js';
import { HEALTHZ_PATH } from '../common/node-health.js';
import { LIVEZ_PATH, READYZ_PATH, type Readiness } from '../common/probes.js';
import { isRehearsal } from '../common/rehearsal-mark.js';
import { tracingOn } from '../common/tracing.js';
import type { GraphqlContext } from './context.js';
import { csrfPrevention } from './csrf-prevention.js';
import { DEFAULT_MAX_DEPTH, depthLimitRule } from './depth-limit.js';
import { internalErrorBody, refusalBody } from './error-response.js';
import { apolloFormatError, type KnownErrors, wsFormatErrors } from './format-error.js';
import { graphqlBatchRoute } from './graphql-batch-route.js';
import type { Commands, Feeds, Leadership, ReadModels } from './ports.js';
import { responseMediaType } from './response-media-type.js';
import { graphqlExecutionSpan, graphqlServerSpan, graphqlSpanPlugin } from './traced-graphql.js';

export { buildEnsembleSchema } from './schema.js';

import { buildEnsembleSchema } from './schema.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphqlServerOptions {
  host: string;
  port: number;
  readModels: ReadModels;
  commands: Commands;
  feeds: Feeds;
  leadership: Leadership;
  apiToken: string;
  /** Largest accepted upload in bytes (default 10 MiB); above it the answer is HTTP 413. */
  maxUploadBytes?: number;
  logger: Logger;
  healthz: () => { status: number; body: unknown };
  /** `/readyz` (common/probes.ts): 200 when ready, 503 saying what is missing. `/livez` needs nothing. */
  readyz: () => Readiness;
  /** Mounted after /healthz and before the 404 fallback (e.g. /metrics); `schema` is the one served. */
  extraRoutes?: (app: express.Express, schema: GraphQLSchema) => void;
  /** CLUSTER_SECRET, on a node: serves the gateway's signed batches at /graphql/batch. */
  batchSecret?: string;
  /**
   * What a rehearsal's mutations run against instead of `commands` (a request, alone or in a
   * signed batch, whose REHEARSAL_HEADER is its rehearsal mark under `batchSecret`:
   * nodes/rehearsal/write-rehearsal.ts); without it the header is ignored.
   */
  rehearsalCommands?: Commands;
  /** The host's own refusals among other errors (see format-error.ts); otherwise they are masked. */
  knownErrors?: KnownErrors;
}

export interface GraphqlServer {
  /** Base URL actually bound, e.g. `http://127.0.0.1:4001` (the real port when `port` was 0). */
  url: string;
  close(): Promise<void>;
}

export async function startGraphqlServer(opts: GraphqlServerOptions): Promise<GraphqlServer> {
  if (opts.apiToken.trim() === '') throw new Error('startGraphqlServer: apiToken must not be empty');
  const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1) {
    throw new Error(`startGraphqlServer: maxUploadBytes must be a positive integer, got ${maxUploadBytes}`);
  }
  const { logger } = opts;
  const schema = await buildEnsembleSchema();

  const contextFor = (
    authorization: string | undefined,
    requestKey?: string,
    rehearsal = false,
  ): GraphqlContext => ({
    readModels: opts.readModels,
    commands: (rehearsal ? opts.rehearsalCommands : undefined) ?? opts.commands,
    feeds: opts.feeds,
    leadership: opts.leadership,
    auth: checkBearer(authorization, opts.apiToken),
    maxUploadBytes,
    ...(requestKey === undefined ? {} : { requestKey }),
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);

  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const validationRules = [...specifiedRules, depthLimitRule(DEFAULT_MAX_DEPTH)];
  const wsCleanup = useServer(
    {
      schema,
      context: (ctx) => {
        // Browsers can't set headers on a WebSocket, so the token may come in connectionParams.
        const params = ctx.connectionParams ?? {};
        const fromParams = params.authorization ?? params.Authorization;
        return contextFor(typeof fromParams === 'string' ? fromParams : headerOf(ctx.extra.request.headers));
      },
      validate: (s: GraphQLSchema, document: DocumentNode) => validate(s, document, validationRules),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: wsFormatErrors(logger, result.errors, false, opts.knownErrors) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => wsFormatErrors(logger, errors, true, opts.knownErrors),
    },
    wsServer,
  );
  wsServer.on('error', (err) => logger.error({ err }, 'WebSocket server error'));

  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: true,
    csrfPrevention, // multipart uploads must send `apollo-require-preflight: true`
    includeStacktraceInErrorResponses: false,
    // The process owns its signals (nodes/main.ts, gateway/main.ts) and stops Apollo in order.
    stopOnTerminationSignals: false,
    validationRules: [depthLimitRule(DEFAULT_MAX_DEPTH)],
    formatError: apolloFormatError(logger, opts.knownErrors),
    logger,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No cache hints anywhere in the schema: spare the per-field hook that computes them.
      ApolloServerPluginCacheControlDisabled(),
      ...(tracingOn() ? [graphqlSpanPlugin] : []),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  // Traces of /graphql only: health checks and metrics scrapes would drown them.
  if (tracingOn()) app.post(GRAPHQL_PATH, graphqlServerSpan());
  app.get(HEALTHZ_PATH, (_req, res) => {
    const { status, body } = opts.healthz();
    res.status(status).json(body);
  });
  app.get(LIVEZ_PATH, (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get(READYZ_PATH, (_req, res) => {
    const state = opts.readyz();
    res.status(state.ready ? 200 : 503).json(state);
  });
  opts.extraRoutes?.(app, schema);
  if (opts.batchSecret !== undefined) {
    // Before /graphql, whose prefix it shares.
    app.post(
      BATCH_PATH,
      ...graphqlBatchRoute({
        apollo,
        contextFor,
        secret: opts.batchSecret,
        maxRequestBytes: MAX_JSON_BYTES,
        logger,
      }),
    );
  }
  const apolloMiddleware = expressMiddleware(apollo, {
    context: async ({ req }) => {
      const key = idempotencyKeyOf(req.headers);
      const secret = opts.batchSecret;
      const rehearsal = secret !== undefined && isRehearsal(secret, key, req.headers[REHEARSAL_HEADER]);
      return contextFor(headerOf(req.headers), key, rehearsal);
    },
  });
  app.use(
    GRAPHQL_PATH,
    drainUnreadUpload,
    // +1: busboy flags a file as truncated once it *reaches* maxFileSize, so a file of exactly
    // maxUploadBytes would be refused; readUpload() enforces the exact limit.
    graphqlUploadExpress({ maxFileSize: maxUploadBytes + 1, maxFiles: 1 }),
    express.json({ limit: MAX_JSON_BYTES }),
    tracingOn() ? graphqlExecutionSpan(apolloMiddleware) : apolloMiddleware,
  );
  app.use((req, res) => {
    res.status(404).json(refusalBody('NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(httpErrorHandler(logger));

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(opts.port, opts.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await apollo.stop();
    throw error;
  }
  httpServer.on('error', (err) => logger.error({ err }, 'HTTP server error'));

  const { port } = httpServer.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    close: () => {
      closing ??= apollo.stop();
      return closing;
    },
  };
}

function headerOf(headers: IncomingHttpHeaders): string | undefined {
  return headers.authorization;
}

function idempotencyKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[IDEMPOTENCY_KEY_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/**
 * When a response goes out before the upload was read (auth or CSRF refusal), the rest of the
 * request would stay stuck behind busboy's backpressure; let it flow away instead.
 */
const drainUnreadUpload: express.RequestHandler = (req, res, next) => {
  if (req.is('multipart/form-data')) {
    res.once('finish', () => {
      if (!req.readableEnded) {
        req.unpipe();
        req.resume();
      }
    });
  }
  next();
};

/**
 * Errors before GraphQL runs (bad multipart, too many files, bad JSON, too large): JSON, not
 * HTML, in the media type the client accepts, as Apollo's own refusals are.
 */
function httpErrorHandler(logger: Logger): express.ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const raw =
      (err as { status?: unknown; statusCode?: unknown }).status ??
      (err as { statusCode?: unknown }).statusCode;
    const status = typeof raw === 'number' && raw >= 400 && raw < 600 ? raw : 500;
    if (status >= 500) logger.error({ err }, 'HTTP request failed');
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    const limit = (err as { limit?: unknown }).limit;
    res.type(responseMediaType(req));
    if (status >= 500) {
      res.status(status).json(internalErrorBody());
      return;
    }
    const message =
      status === 413 && typeof limit === 'number'
        ? `the request body exceeds the limit of ${limit} bytes`
        : String((err as Error).message ?? err);
    res.status(status).json(refusalBody(code, message));
  };
}
