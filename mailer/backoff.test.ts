import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.js';

test('the alert retry backoff: from half to all of 1 s·2^n, capped at 60 s, and back to 1 s after a success', () => {
  for (let round = 0; round < 20; round++) {
    const backoff = new Backoff(1_000, 60_000);
    const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
    for (const ceiling of ceilings) {
      const wait = backoff.next();
      assert.ok(wait >= ceiling / 2 && wait <= ceiling, `${wait} ms, expected ${ceiling / 2}–${ceiling}`);
    }
    backoff.reset();
    const wait = backoff.next();
    assert.ok(wait >= 500 && wait <= 1_000, `after reset: ${wait} ms`);
  }
});
