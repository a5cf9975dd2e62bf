/**
 * HTTP over kept-alive connections, with node:http: the gateway's hot path is a proxy to the
 * nodes, where a pooled socket saves a handshake per request; the nodes send their announcements
 * and write rehearsals with it too. Not `fetch`: undici parses answers with llhttp compiled to
 * WebAssembly, which V8 later recompiles in the background with its optimizing compiler — ≈ 140
 * ms of CPU per process, measured (`perf record`) landing on an election a second or two after a
 * node's start, where node:http's parser is native. A failure to get an answer — refused, reset,
 * timed out — is an HttpUnreachableError: the caller decides whether the request may be retried.
 */
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1_000 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

interface Target {
  readonly https: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
  readonly auth?: string;
}

/** Parsed request targets: the URLs are few and asked again and again. */
const targets = new Map<string, Target>();

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (!target) {
    const parsed = new URL(url);
    const https = parsed.protocol === 'https:';
    target = {
      https,
      // node:http wants an IPv6 literal without its brackets
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(parsed.port || (https ? 443 : 80)),
      path: `${parsed.pathname}${parsed.search}`,
      ...(parsed.username
        ? { auth: `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` }
        : {}),
    };
    if (targets.size >= 256) targets.clear();
    targets.set(url, target);
  }
  return target;
}

export class HttpUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'HttpUnreachableError';
  }
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export function httpRequest(
  url: string,
  options: {
    method: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: Buffer | string;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { https, hostname, port, path, auth } = targetOf(url);
    const req = (https ? httpsRequest : request)(
      {
        hostname,
        port,
        path,
        ...(auth === undefined ? {} : { auth }),
        method: options.method,
        headers: options.headers,
        agent: https ? httpsAgent : agent,
        timeout: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new HttpUnreachableError(url, error.message)));
        res.on('end', () => {
          if (!res.complete) {
            reject(new HttpUnreachableError(url, 'the answer was cut off'));
            return;
          }
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(new HttpUnreachableError(url, error.code ?? error.message)),
    );
    req.end(options.body);
  });
}

/** GET a JSON document, or throw HttpUnreachableError. */
export async function getJson(url: string, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  const res = await httpRequest(url, { method: 'GET', timeoutMs });
  try {
    return { status: res.status, json: JSON.parse(res.body.toString('utf8')) };
  } catch {
    throw new HttpUnreachableError(url, `answered ${res.status} with a body that is not JSON`);
  }
}
