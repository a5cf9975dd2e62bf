/**
 * Retries with exponential backoff and jitter, shared by page fetches, publishing and the FTP
 * upload: a transient failure (a dropped connection, a 503, a nack) is tried again after a growing
 * pause instead of failing the scrape or losing a listing.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The pause before the second try; each later pause doubles, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs?: number;
}

/** The pause after the given failed try (1-based): doubling, capped, ±20 % so retries spread out. */
export function backoffDelay(failedAttempt: number, policy: RetryPolicy): number {
  const raw = policy.baseDelayMs * 2 ** (failedAttempt - 1);
  const capped = Math.min(raw, policy.maxDelayMs ?? 30_000);
  return Math.round(capped * (0.8 + Math.random() * 0.4));
}

export interface RetryHooks {
  /** Whether this error is worth another try (default: every error). */
  retryable?(error: unknown): boolean;
  onRetry?(error: unknown, failedAttempt: number, delayMs: number): void;
  signal?: AbortSignal;
}

export async function withRetries<T>(
  work: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || hooks.signal?.aborted || !(hooks.retryable?.(error) ?? true))
        throw error;
      const delay = backoffDelay(attempt, policy);
      hooks.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, { signal: hooks.signal });
    }
  }
}
