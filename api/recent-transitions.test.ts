import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterEventDto } from './ports.js';
import { RecentTransitions } from './recent-transitions.js';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, 0, ms));
const t = (ms: number, to: ClusterEventDto['to'] = 'FOLLOWER', nodeId = 'n1'): ClusterEventDto => ({
  nodeId,
  term: 1,
  from: 'CANDIDATE',
  to,
  reason: 'test',
  at: at(ms),
});

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push((await it.next()).value as T);
  return out;
}

test('since: the kept transitions from then, then the live ones, in order', async () => {
  const recent = new RecentTransitions();
  recent.add(t(1));
  recent.add(t(2));
  recent.add(t(3));
  const it = recent.subscribe(at(2));
  const first = it.next(); // the subscription starts here
  recent.add(t(4, 'LEADER'));
  assert.deepEqual([(await first).value, ...(await take(it, 2))], [t(2), t(3), t(4, 'LEADER')]);
  await it.return?.();
});

test('without since: only live ones; a transition seen before is neither kept nor published twice', async () => {
  const recent = new RecentTransitions();
  recent.add(t(1));
  const it = recent.subscribe();
  const first = it.next();
  assert.equal(recent.add(t(1)), false);
  assert.equal(recent.add(t(1, 'FOLLOWER', 'n2')), true);
  assert.deepEqual((await first).value, t(1, 'FOLLOWER', 'n2'));
  await it.return?.();
});

test('only the last `limit` are kept; a dropped one may be added again', () => {
  const recent = new RecentTransitions(2);
  for (const ms of [1, 2, 3]) recent.add(t(ms));
  assert.deepEqual(recent.since(at(0)), [t(2), t(3)]);
  assert.equal(recent.add(t(1)), true);
});

test('an ended subscription is no longer published to', async () => {
  const recent = new RecentTransitions();
  const it = recent.subscribe();
  const first = it.next();
  recent.add(t(1));
  await first;
  await it.return?.();
  recent.add(t(2)); // would throw or leak if the listener were still there
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});
