/**
 * `POST /graphql/batch` on a node: the gateway's coalesced requests (common/graphql-batch.ts).
 * Each request in a batch runs through the same Apollo Server as a request to `/graphql` — same
 * validation, limits, CSRF rule, context (its own Authorization and Idempotency-Key) and error
 * formatting — concurrently, as separate requests would; only the HTTP exchange is shared.
 */
import { type ApolloServer, HeaderMap } from '@apollo/server';
import express from 'express';
import type { Logger } from 'pino';
import {
  BATCH_CONTENT_TYPE,
  type BatchedRequest,
  type BatchedResponse,
  BatchFormatError,
  batchSignatureValid,
  decodeRequests,
  encodeResponses,
} from '../common/graphql-batch.js';
import { IDEMPOTENCY_KEY_HEADER, REHEARSAL_HEADER, SIGNATURE_HEADER } from '../common/http-headers.js';
import { MAX_BATCH_BYTES } from '../common/limits.js';
import { isRehearsal } from '../common/rehearsal-mark.js';
import { tracingOn } from '../common/tracing.js';
import type { GraphqlContext } from './context.js';
import { type ErrorResponseBody, internalErrorBody, refusalBody } from './error-response.js';
import { batchedRequestSpan } from './traced-graphql.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function graphqlBatchRoute(options: {
  readonly apollo: ApolloServer<GraphqlContext>;
  readonly contextFor: (
    authorization: string | undefined,
    idempotencyKey?: string,
    rehearsal?: boolean,
  ) => GraphqlContext;
  /** CLUSTER_SECRET: batches come from the gateway only. */
  readonly secret: string;
  /** The largest body of one request (as on /graphql). */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
}): express.RequestHandler[] {
  const { apollo, contextFor, secret, logger } = options;
  const refuse = (res: express.Response, status: number, code: string, message: string) =>
    res.status(status).json(refusalBody(code, message));

  const answer = async (request: BatchedRequest): Promise<BatchedResponse> => {
    const error = (status: number, body: ErrorResponseBody): BatchedResponse => ({
      status,
      contentType: JSON_TYPE,
      body: Buffer.from(JSON.stringify(body)),
    });
    if (request.body.length > options.maxRequestBytes)
      return error(
        413,
        refusalBody(
          'PAYLOAD_TOO_LARGE',
          `the request body exceeds the limit of ${options.maxRequestBytes} bytes`,
        ),
      );
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch (e) {
      return error(400, refusalBody('BAD_REQUEST', (e as Error).message));
    }
    const headers = new HeaderMap([['content-type', 'application/json']]);
    const {
      authorization,
      accept,
      [IDEMPOTENCY_KEY_HEADER]: key,
      [REHEARSAL_HEADER]: rehearsal,
    } = request.headers;
    if (authorization !== undefined) headers.set('authorization', authorization);
    if (accept !== undefined) headers.set('accept', accept);
    if (key !== undefined) headers.set(IDEMPOTENCY_KEY_HEADER, key);
    try {
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: '', body },
        context: async () => contextFor(authorization, key, isRehearsal(secret, key, rehearsal)),
      });
      let text = '';
      if (result.body.kind === 'complete') text = result.body.string;
      else for await (const chunk of result.body.asyncIterator) text += chunk;
      return {
        status: result.status ?? 200,
        contentType: result.headers.get('content-type') ?? JSON_TYPE,
        body: Buffer.from(text),
      };
    } catch (e) {
      logger.error({ err: e }, 'a batched request failed');
      return error(500, internalErrorBody());
    }
  };

  return [
    // Read before the signature is checked: kept to what the gateway ever sends.
    express.raw({ type: BATCH_CONTENT_TYPE, limit: MAX_BATCH_BYTES }),
    async (req, res, next) => {
      if (!Buffer.isBuffer(req.body)) {
        refuse(res, 415, 'BAD_REQUEST', `a batch is sent as ${BATCH_CONTENT_TYPE}`);
        return;
      }
      const signature = req.headers[SIGNATURE_HEADER];
      if (!batchSignatureValid(secret, req.body, typeof signature === 'string' ? signature : undefined)) {
        logger.warn({ from: req.socket.remoteAddress }, 'refused a batch with a missing or wrong signature');
        refuse(res, 401, 'UNAUTHENTICATED', 'a batch must be signed with the cluster secret');
        return;
      }
      let requests: BatchedRequest[];
      try {
        requests = decodeRequests(req.body);
      } catch (e) {
        if (e instanceof BatchFormatError) refuse(res, 400, 'BAD_REQUEST', e.message);
        else next(e);
        return;
      }
      const answered = tracingOn()
        ? requests.map((r) => batchedRequestSpan(r.headers, requests.length, () => answer(r)))
        : requests.map(answer);
      const out = encodeResponses(await Promise.all(answered));
      res.writeHead(200, { 'content-type': BATCH_CONTENT_TYPE, 'content-length': out.length });
      res.end(out);
    },
  ];
}
