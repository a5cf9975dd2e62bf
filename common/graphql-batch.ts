/**
 * The gateway's coalesced requests: the GraphQL requests it forwards to one node in the same
 * event-loop turn travel as one POST to the node's `/graphql/batch`, and their answers come back
 * in one response, each exactly what the node would have answered it alone (status, content
 * type, bytes). One HTTP exchange instead of several is most of a forwarded request's cost on
 * both sides (see the README's gateway benchmark).
 *
 * Length-prefixed frames, so that neither side re-serializes a request nor parses an answer to
 * split it (integers big-endian):
 *
 *   request  = u32 count, then per request:  u32 n, headers as a JSON object (n bytes),
 *                                            u32 m, the JSON body (m bytes)
 *   response = per request, in order:        u16 status, u16 n, content type (n bytes),
 *                                            u32 m, body (m bytes)
 *
 * A batch is signed like an announcement (HMAC-SHA256 of the body with CLUSTER_SECRET, in the
 * SIGNATURE_HEADER), so a
 * node takes batches from its gateway only; each request in it still carries its own
 * Authorization and Idempotency-Key and goes through the node's GraphQL server as usual.
 *
 * Each request's headers also carry its caller's W3C `traceparent` (and `tracestate`) when the
 * gateway traces (common/tracing.ts), so a batch keeps every caller's own trace. The format is
 * unchanged by it: the headers object is open, a node that does not trace (or predates tracing)
 * parses the frame as before and ignores the header.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IDEMPOTENCY_KEY_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER } from './http-headers.js';
import { MAX_BATCH } from './limits.js';

export const BATCH_PATH = '/graphql/batch';
export const BATCH_CONTENT_TYPE = 'application/vnd.ensemble.graphql-batch';
/** The request headers a batch carries for each request; nothing else reaches the node. */
export const BATCHED_HEADERS = [
  'authorization',
  // The client's: the media type of its answer (GraphQL over HTTP), negotiated by the node.
  'accept',
  IDEMPOTENCY_KEY_HEADER,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
] as const;

export interface BatchedRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface BatchedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A batch that does not follow the format: the node answers 400 with this message. */
export class BatchFormatError extends Error {
  constructor(message: string) {
    super(`malformed batch: ${message}`);
    this.name = 'BatchFormatError';
  }
}

export function signBatch(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function batchSignatureValid(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(signBatch(secret, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export function encodeRequests(requests: readonly BatchedRequest[]): Buffer {
  const parts: Buffer[] = [u32(requests.length)];
  for (const r of requests) {
    const headers = Buffer.from(JSON.stringify(r.headers));
    parts.push(u32(headers.length), headers, u32(r.body.length), r.body);
  }
  return Buffer.concat(parts);
}

/** Reads frames off a buffer, refusing any length that runs past its end. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.at + n > this.buf.length)
      throw new BatchFormatError(`${what} runs past the end (${this.buf.length} bytes)`);
  }

  u16(what: string): number {
    this.need(2, what);
    const n = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return n;
  }

  u32(what: string): number {
    this.need(4, what);
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  end(): void {
    if (this.at !== this.buf.length)
      throw new BatchFormatError(`${this.buf.length - this.at} bytes after the last frame`);
  }
}

export function decodeRequests(buf: Buffer, maxCount = MAX_BATCH): BatchedRequest[] {
  const r = new Reader(buf);
  const count = r.u32('the count');
  if (count === 0 || count > maxCount)
    throw new BatchFormatError(`${count} requests (1 to ${maxCount} allowed)`);
  const requests: BatchedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const raw = r.bytes(r.u32(`request ${i}'s headers length`), `request ${i}'s headers`);
    let headers: unknown;
    try {
      headers = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BatchFormatError(`request ${i}'s headers are not JSON`);
    }
    if (
      typeof headers !== 'object' ||
      headers === null ||
      Array.isArray(headers) ||
      Object.values(headers).some((v) => typeof v !== 'string')
    )
      throw new BatchFormatError(`request ${i}'s headers are not an object of strings`);
    const body = r.bytes(r.u32(`request ${i}'s body length`), `request ${i}'s body`);
    requests.push({ headers: headers as Record<string, string>, body });
  }
  r.end();
  return requests;
}

export function encodeResponses(responses: readonly BatchedResponse[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of responses) {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt16BE(r.status, 0);
    const contentType = Buffer.from(r.contentType);
    head.writeUInt16BE(contentType.length, 2);
    parts.push(head, contentType, u32(r.body.length), r.body);
  }
  return Buffer.concat(parts);
}

/** The answers to a batch of `count` requests; anything but exactly that many is refused. */
export function decodeResponses(buf: Buffer, count: number): BatchedResponse[] {
  const r = new Reader(buf);
  const responses: BatchedResponse[] = [];
  for (let i = 0; i < count; i++) {
    const status = r.u16(`answer ${i}'s status`);
    const contentType = r.bytes(r.u16(`answer ${i}'s content type length`), `answer ${i}'s content type`);
    const body = r.bytes(r.u32(`answer ${i}'s body length`), `answer ${i}'s body`);
    responses.push({ status, contentType: contentType.toString('latin1'), body });
  }
  r.end();
  return responses;
}
