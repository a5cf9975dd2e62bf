/**
 * Fetches one page of a shop, politely and patiently: a timeout per try, and retries with backoff
 * for what may pass (network errors, timeouts, 429 and 5xx); a 404 or another 4xx is final.
 */
import { type RetryHooks, type RetryPolicy, withRetries } from './retry.js';

export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url}: HTTP ${status}`);
  }
}

export interface FetchPolicy extends RetryPolicy {
  readonly timeoutMs: number;
  readonly userAgent?: string;
}

const DEFAULT_USER_AGENT = 'ensemble-scraper/0.1 (polite: few requests at a time)';

function retryable(error: unknown): boolean {
  if (error instanceof HttpError) return error.status === 429 || error.status >= 500;
  // A timeout (TimeoutError) or a network failure (fetch's TypeError); not a stop (AbortError).
  return !(error instanceof Error && error.name === 'AbortError');
}

export interface FetchedPage {
  /** Where the page was found, after redirects: relative links resolve against it. */
  readonly url: string;
  readonly html: string;
}

export async function fetchPage(
  url: string,
  policy: FetchPolicy,
  hooks: Omit<RetryHooks, 'retryable'> = {},
): Promise<FetchedPage> {
  return withRetries(
    async () => {
      const timeout = AbortSignal.timeout(policy.timeoutMs);
      const signal = hooks.signal ? AbortSignal.any([hooks.signal, timeout]) : timeout;
      const response = await fetch(url, {
        signal,
        redirect: 'follow',
        headers: { 'user-agent': policy.userAgent ?? DEFAULT_USER_AGENT, accept: 'text/html,*/*;q=0.8' },
      });
      if (!response.ok) {
        // Drain the body so the connection can be reused.
        await response.arrayBuffer().catch(() => undefined);
        throw new HttpError(url, response.status);
      }
      return { url: response.url || url, html: await response.text() };
    },
    policy,
    { ...hooks, retryable },
  );
}
