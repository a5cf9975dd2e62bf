/**
 * How the routers reach a node's GraphQL endpoint. Plain JSON requests for the same node made in
 * the same event-loop turn leave together as one signed batch (common/graphql-batch.ts) and
 * their answers are handed back one by one, byte for byte; a request alone goes as a plain POST
 * /graphql, so batching costs an idle gateway nothing and adds no wait (the turn ends anyway).
 * Uploads and anything with other headers always go alone.
 *
 * Each request keeps its own outcome: the batch's failure to arrive is every request's failure
 * (HttpUnreachableError, as a single POST would fail), an aborted request is rejected at once
 * without waiting for its batch, and a node that does not take batches (an older version, a
 * different secret) gets the requests one by one and is not offered batches for a minute.
 */
import type { Logger } from 'pino';
import {
  BATCH_CONTENT_TYPE,
  BATCH_PATH,
  BATCHED_HEADERS,
  type BatchedResponse,
  BatchFormatError,
  decodeResponses,
  encodeRequests,
  signBatch,
} from '../../common/graphql-batch.js';
import { type HttpResponse, HttpUnreachableError, httpRequest } from '../../common/http-client.js';
import { SIGNATURE_HEADER } from '../../common/http-headers.js';
import { MAX_BATCH, MAX_BATCH_BODY_BYTES } from '../../common/limits.js';
import { tracingOn } from '../../common/tracing.js';
import { nodeRequestSpan } from './traced-routing.js';

export interface NodeTransport {
  /** POST a GraphQL request (JSON or multipart, as `headers` say) to `${nodeUrl}/graphql`. */
  send(
    nodeUrl: string,
    body: Buffer | string,
    headers: Record<string, string>,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<HttpResponse>;
}

/** Every request on its own. */
export const plainTransport: NodeTransport = {
  send: (nodeUrl, body, headers, { timeoutMs, signal }) =>
    httpRequest(`${nodeUrl}/graphql`, {
      method: 'POST',
      headers,
      body,
      timeoutMs,
      ...(signal ? { signal } : {}),
    }),
};

/** A node that refused a batch is sent requests one by one for this long. */
const REFUSED_FOR_MS = 60_000;

interface Pending {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  settled: boolean;
  readonly resolve: (res: HttpResponse) => void;
  readonly reject: (error: unknown) => void;
}

export class NodeBatcher implements NodeTransport {
  private readonly queues = new Map<string, Pending[]>();
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    private readonly options: {
      /** CLUSTER_SECRET, which signs batches. */
      readonly secret: string;
      readonly logger: Logger;
      /** Called with the size of every batch sent (not for requests sent alone). */
      readonly onBatch?: (size: number) => void;
    },
  ) {}

  send(
    nodeUrl: string,
    body: Buffer | string,
    headers: Record<string, string>,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<HttpResponse> {
    if (!tracingOn()) return this.enqueue(nodeUrl, body, headers, options);
    return nodeRequestSpan(nodeUrl, headers, (traced) => this.enqueue(nodeUrl, body, traced, options));
  }

  private enqueue(
    nodeUrl: string,
    body: Buffer | string,
    headers: Record<string, string>,
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ): Promise<HttpResponse> {
    if (!batchable(headers)) return plainTransport.send(nodeUrl, body, headers, options);
    if (options.signal?.aborted) return Promise.reject(new HttpUnreachableError(nodeUrl, 'ABORT_ERR'));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        body: typeof body === 'string' ? Buffer.from(body) : body,
        headers,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        settled: false,
        resolve: (res) => settle(() => resolve(res)),
        reject: (error) => settle(() => reject(error)),
      };
      /** The first outcome wins (an abort, the batch's answer, its failure); the rest are dropped. */
      const settle = (finish: () => void) => {
        if (pending.settled) return;
        pending.settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const onAbort = () => pending.reject(new HttpUnreachableError(nodeUrl, 'ABORT_ERR'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let queue = this.queues.get(nodeUrl);
      if (!queue) {
        queue = [];
        this.queues.set(nodeUrl, queue);
        setImmediate(() => this.flush(nodeUrl));
      }
      queue.push(pending);
    });
  }

  private flush(nodeUrl: string): void {
    const queue = (this.queues.get(nodeUrl) ?? []).filter((p) => !p.settled);
    this.queues.delete(nodeUrl);
    if (queue.length === 1 || (this.refusedUntil.get(nodeUrl) ?? 0) > Date.now()) {
      for (const p of queue) this.sendAlone(nodeUrl, p);
      return;
    }
    let chunk: Pending[] = [];
    let bytes = 0;
    for (const p of queue) {
      if (chunk.length > 0 && (chunk.length === MAX_BATCH || bytes + p.body.length > MAX_BATCH_BODY_BYTES)) {
        this.sendBatch(nodeUrl, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(p);
      bytes += p.body.length;
    }
    if (chunk.length > 0) this.sendBatch(nodeUrl, chunk);
  }

  private sendAlone(nodeUrl: string, p: Pending): void {
    plainTransport
      .send(nodeUrl, p.body, p.headers, { timeoutMs: p.timeoutMs, ...(p.signal ? { signal: p.signal } : {}) })
      .then(p.resolve, p.reject);
  }

  private sendBatch(nodeUrl: string, batch: Pending[]): void {
    if (batch.length === 1) {
      this.sendAlone(nodeUrl, batch[0] as Pending);
      return;
    }
    this.options.onBatch?.(batch.length);
    const body = encodeRequests(
      batch.map((p) => {
        const { 'content-type': _json, ...headers } = p.headers;
        return { headers, body: p.body };
      }),
    );
    httpRequest(`${nodeUrl}${BATCH_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': BATCH_CONTENT_TYPE,
        [SIGNATURE_HEADER]: signBatch(this.options.secret, body),
      },
      body,
      timeoutMs: Math.max(...batch.map((p) => p.timeoutMs)),
    }).then(
      (res) => {
        if (res.status !== 200) {
          this.refusedUntil.set(nodeUrl, Date.now() + REFUSED_FOR_MS);
          this.options.logger.warn(
            { node: nodeUrl, status: res.status, answer: res.body.toString('utf8').slice(0, 200) },
            'a node refused a batch: sending it requests one by one for a minute',
          );
          for (const p of batch) if (!p.settled) this.sendAlone(nodeUrl, p);
          return;
        }
        let answers: BatchedResponse[];
        try {
          answers = decodeResponses(res.body, batch.length);
        } catch (error) {
          const reason = error instanceof BatchFormatError ? error.message : String(error);
          for (const p of batch) p.reject(new HttpUnreachableError(nodeUrl, reason));
          return;
        }
        batch.forEach((p, i) => {
          const a = answers[i] as BatchedResponse;
          p.resolve({ status: a.status, contentType: a.contentType, body: a.body });
        });
      },
      (error) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}

/** A request's headers in a batch at most: a longer token or key goes alone (see MAX_BATCH_BYTES). */
const MAX_BATCHED_HEADER_CHARS = 1024;

/** Plain JSON with nothing but the headers a batch carries, and those short. */
function batchable(headers: Record<string, string>): boolean {
  if (headers['content-type'] !== 'application/json') return false;
  let chars = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-type') continue;
    if (!(BATCHED_HEADERS as readonly string[]).includes(name)) return false;
    chars += value.length;
  }
  return chars <= MAX_BATCHED_HEADER_CHARS;
}
