import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, withRetries } from './retry.js';

describe('retries with backoff', () => {
  test('the pause doubles after each failed try, ±20 %, up to maxDelayMs', () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    const expected = [100, 200, 400, 800, 1000, 1000];
    for (let round = 0; round < 50; round++) {
      expected.forEach((nominal, i) => {
        const delay = backoffDelay(i + 1, policy);
        assert.ok(delay >= nominal * 0.8 && delay <= nominal * 1.2, `try ${i + 1}: ${delay} ms`);
      });
    }
  });

  test('a failing call is tried again after growing pauses until it succeeds', async () => {
    const pauses: number[] = [];
    const result = await withRetries(
      async (attempt) => {
        if (attempt < 4) throw new Error(`failure ${attempt}`);
        return attempt;
      },
      { attempts: 5, baseDelayMs: 10 },
      { onRetry: (_error, failedAttempt, delayMs) => pauses.push(failedAttempt, delayMs) },
    );
    assert.equal(result, 4);
    const [a1, d1, a2, d2, a3, d3] = pauses as [number, number, number, number, number, number];
    assert.deepEqual([a1, a2, a3], [1, 2, 3]);
    assert.ok(d1 >= 8 && d1 <= 12 && d2 >= 16 && d2 <= 24 && d3 >= 32 && d3 <= 48, `${pauses}`);
  });

  test('after the last try the last error is thrown; an error that is not retryable is thrown at once', async () => {
    let calls = 0;
    await assert.rejects(
      withRetries(
        async (attempt) => {
          calls += 1;
          throw new Error(`failure ${attempt}`);
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
      { message: 'failure 3' },
    );
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls += 1;
          throw new Error('final');
        },
        { attempts: 3, baseDelayMs: 1 },
        { retryable: () => false },
      ),
      { message: 'final' },
    );
    assert.equal(calls, 1);
  });

  test('a stop during the pause ends the retries', async () => {
    const stop = new AbortController();
    let calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls += 1;
          throw new Error('down');
        },
        { attempts: 5, baseDelayMs: 60_000 },
        { signal: stop.signal, onRetry: () => stop.abort() },
      ),
      { name: 'AbortError' },
    );
    assert.equal(calls, 1);
  });
});
