import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { eventually } from '../../test-support/eventually.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { EventFeed, UNLISTEN_AFTER_MS } from './event-feed.js';
import { EventStore } from './event-store.js';
import type { StoredEvent } from './stored-event.js';

let pg: TestPostgres;
const closers: (() => Promise<unknown>)[] = [];
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await pg.stop();
});

async function setup(): Promise<{ url: string; orm: MikroORM; store: EventStore; feed: EventFeed }> {
  const url = await pg.createDatabase();
  const orm = await openDatabase(url);
  const store = new EventStore(orm);
  const feed = await EventFeed.start(url, store, pino({ level: 'silent' }));
  closers.push(
    () => orm.close(),
    () => feed.stop(),
  );
  await store.fence.claim({ term: 1, nodeId: 'n1' }, 'http://n1');
  return { url, orm, store, feed };
}

async function take(it: AsyncIterableIterator<StoredEvent>, n: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const create = (store: EventStore, fence = { term: 1, nodeId: 'n1' }) => {
  const id = randomUUID();
  return store.append(fence, [
    {
      stream: `task-${id}`,
      expectedVersion: 0,
      events: [
        { type: 'TaskCreated', data: { id, title: 't', description: null, status: 'TODO', createdBy: 'n1' } },
      ],
    },
  ]);
};

test('under concurrent writers from two connection pools, a subscriber gets every event once, in order', async () => {
  const { url, store, feed } = await setup();
  // A second, independent pool: writes race across connections, not just within one.
  const orm2 = await openDatabase(url);
  closers.push(() => orm2.close());
  const store2 = new EventStore(orm2);
  const sub = feed.subscribe();
  // Let the subscriber settle on its starting cursor before writing.
  const first = take(sub, 200);
  await new Promise((r) => setImmediate(r));
  await Promise.all(Array.from({ length: 200 }, (_, i) => create(i % 2 ? store : store2)));
  const got = await first;
  await sub.return?.();
  const all = (await store.readAll({ limit: 1000 })).filter((e) => e.type === 'TaskCreated');
  assert.deepEqual(
    got.map((e) => e.position),
    all.map((e) => e.position),
  );
  for (let i = 1; i < got.length; i++) assert.ok((got[i]?.position ?? 0) > (got[i - 1]?.position ?? 0));
});

test('a subscriber can resume after a position and filter one stream', async () => {
  const { store, feed } = await setup();
  const id = randomUUID();
  const stream = `task-${id}`;
  await store.append({ term: 1, nodeId: 'n1' }, [
    {
      stream,
      expectedVersion: 0,
      events: [
        { type: 'TaskCreated', data: { id, title: 't', description: null, status: 'TODO', createdBy: 'n1' } },
      ],
    },
  ]);
  await create(store);
  const sub = feed.subscribe({ stream, afterPosition: 0 });
  const pending = take(sub, 3);
  await store.append({ term: 1, nodeId: 'n1' }, [
    { stream, expectedVersion: 1, events: [{ type: 'TaskUpdated', data: { id, status: 'IN_PROGRESS' } }] },
  ]);
  await create(store);
  await store.append({ term: 1, nodeId: 'n1' }, [
    { stream, expectedVersion: 2, events: [{ type: 'TaskDeleted', data: { id } }] },
  ]);
  const got = await pending;
  await sub.return?.();
  assert.deepEqual(
    got.map((e) => [e.stream, e.version, e.type]),
    [
      [stream, 1, 'TaskCreated'],
      [stream, 2, 'TaskUpdated'],
      [stream, 3, 'TaskDeleted'],
    ],
  );
});

test('leaving a subscription ends its iterator', async () => {
  const { feed } = await setup();
  const sub = feed.subscribe();
  const next = sub.next();
  await sub.return?.();
  assert.deepEqual(await next, { done: true, value: undefined });
});

test('nextChange resolves at the notification of an append, and after its limit without one', async () => {
  const { store, feed } = await setup();
  const within = (wait: Promise<void>, ms: number) =>
    Promise.race([wait.then(() => 'resolved'), new Promise((r) => setTimeout(() => r('still waiting'), ms))]);
  // The set-up's own claim notifies too, at a moment of its own: wait until the feed is quiet.
  for (let i = 0; (await within(feed.nextChange(3_600_000), 200)) === 'resolved'; i++)
    assert.ok(i < 20, 'the feed never goes quiet');
  // A limit far beyond the check's bound: only the append's notification can end this wait.
  const changed = feed.nextChange(3_600_000);
  assert.equal(await within(changed, 100), 'still waiting');
  await create(store);
  assert.equal(await within(changed, 5_000), 'resolved');
  // Nothing appended: the limit ends it.
  assert.equal(await within(feed.nextChange(20), 5_000), 'resolved');
});

/** Until `cond` holds, at most `ms`. */
const until = (cond: () => boolean, what: string, ms = 5_000) =>
  eventually(what, async () => (cond() ? true : null), ms);

test('the feed listens only while someone waits on it, and stops a moment after the last one left', async () => {
  const { store, feed } = await setup();
  assert.equal(feed.isListening, false, 'nobody waits: no notification costs this node a wake-up');
  const sub = feed.subscribe({ afterPosition: await store.readLatestPosition() });
  const first = take(sub, 1);
  await until(() => feed.isListening, 'the subscription to make the feed listen');
  await create(store);
  assert.equal((await first)[0]?.type, 'TaskCreated');
  const left = Date.now();
  await sub.return?.();
  assert.equal(feed.isListening, true, 'still listening just after the last one left');
  await until(() => !feed.isListening, 'the feed to stop listening', UNLISTEN_AFTER_MS + 5_000);
  assert.ok(Date.now() - left >= UNLISTEN_AFTER_MS - 10);
  // A wait that starts again makes it listen again.
  const changed = feed.nextChange(3_600_000);
  await until(() => feed.isListening, 'nextChange to make the feed listen');
  await changed; // woken once the LISTEN took effect: the caller looks again
});

test('a subscription opened while the feed does not listen gets what is appended at once, not at the safety tick', {
  timeout: 4_000, // the safety tick (5 s) would deliver it too late for this test
}, async () => {
  const { store, feed } = await setup();
  assert.equal(feed.isListening, false);
  for (let i = 0; i < 3; i++) {
    const sub = feed.subscribe({ afterPosition: await store.readLatestPosition() });
    const next = take(sub, 1);
    await create(store); // right away: before, during or after the LISTEN
    assert.equal((await next)[0]?.type, 'TaskCreated');
    await sub.return?.();
  }
});
