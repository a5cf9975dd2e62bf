/**
 * HTTP to the nodes over kept-alive connections (node:http: the gateway's hot path is a proxy, and
 * a pooled socket saves a handshake per request). A failure to get an answer — refused, reset,
 * timed out — is a NodeUnreachableError: the caller decides whether the request may be retried.
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

/** Parsed request targets: the nodes' URLs are few and asked again and again. */
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

export class NodeUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = 'NodeUnreachableError';
  }
}

export interface NodeResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export function send(
  url: string,
  options: {
    method: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: Buffer | string;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<NodeResponse> {
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
        res.on('error', (error) => reject(new NodeUnreachableError(url, error.message)));
        res.on('end', () => {
          if (!res.complete) {
            reject(new NodeUnreachableError(url, 'the answer was cut off'));
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
      reject(new NodeUnreachableError(url, error.code ?? error.message)),
    );
    req.end(options.body);
  });
}

/** GET a JSON document, or throw NodeUnreachableError. */
export async function getJson(url: string, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  const res = await send(url, { method: 'GET', timeoutMs });
  try {
    return { status: res.status, json: JSON.parse(res.body.toString('utf8')) };
  } catch {
    throw new NodeUnreachableError(url, `answered ${res.status} with a body that is not JSON`);
  }
}
