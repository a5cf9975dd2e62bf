/**
 * Waiting for log records: from now on by default, and with `past` also among the records already
 * logged (the oldest match first), for a wait that starts after its record may have come.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogWaiters } from './log-waiters.js';

interface R {
  readonly msg: string;
  readonly n: number;
}

test('a wait from now on misses a record logged before it; with past it finds the oldest match', async () => {
  const waiters = new LogWaiters<R>();
  waiters.offer({ msg: 'up', n: 1 });
  waiters.offer({ msg: 'up', n: 2 });
  assert.deepEqual(await waiters.waitFor((r) => r.msg === 'up', 1_000, 'up', { past: true }), {
    msg: 'up',
    n: 1,
  });
  await assert.rejects(
    waiters.waitFor((r) => r.msg === 'up', 20, 'up'),
    /timed out after 20 ms waiting for up/,
  );
});

test('with past and no match yet, it waits for the next one', async () => {
  const waiters = new LogWaiters<R>();
  waiters.offer({ msg: 'other', n: 1 });
  const up = waiters.waitFor((r) => r.msg === 'up', 1_000, 'up', { past: true });
  waiters.offer({ msg: 'up', n: 2 });
  assert.deepEqual(await up, { msg: 'up', n: 2 });
});

test('only the last 10,000 records are kept', async () => {
  const waiters = new LogWaiters<R>();
  for (let n = 0; n < 10_001; n++) waiters.offer({ msg: 'up', n });
  assert.equal((await waiters.waitFor(() => true, 1_000, 'any', { past: true })).n, 1);
});
