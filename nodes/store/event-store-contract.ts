/**
 * What every EventStore (event-store-port.ts) must do, as one suite run against each
 * implementation (the idea of Emmett's eventStoreContract): fencing, expected versions,
 * idempotency keys, appendAll's independent appends, and the reads commands rely on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { DomainEvent } from '../../schema/events.js';
import type { Fence } from './event-store.js';
import type { EventStore } from './event-store-port.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';

export interface StoreUnderTest {
  readonly store: EventStore;
  /** Take the write fence for `fence` (as a newly elected leader does). */
  claim(fence: Fence): Promise<void>;
}

const n1: Fence = { term: 1, nodeId: 'n1' };
const n2: Fence = { term: 2, nodeId: 'n2' };

const created = (id: string, title = 'a task'): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title, description: null, status: 'TODO', createdBy: 'n1' },
});
const updated = (id: string, title: string): DomainEvent => ({ type: 'TaskUpdated', data: { id, title } });

/** Create task `t` (its stream must be new), with an idempotency key if given. */
function create(store: EventStore, t: { id: string; stream: string }, idempotencyKey?: string) {
  return store.append(
    n1,
    [{ stream: t.stream, expectedVersion: 0, events: [created(t.id)] }],
    idempotencyKey === undefined ? {} : { idempotencyKey },
  );
}

/** Why an append was refused (fails when it was not). */
function refused(append: Promise<unknown>): Promise<unknown> {
  return append.then(
    () => assert.fail('the append was not refused'),
    (e: unknown) => e,
  );
}

/** A fresh task id and its stream. */
function task(): { id: string; stream: string } {
  const id = randomUUID();
  return { id, stream: `task-${id}` };
}

export function eventStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  /** A fresh store whose fence n1 holds. */
  async function led(): Promise<EventStore> {
    const { store, claim } = await makeStore();
    await claim(n1);
    return store;
  }

  describe(`${name}: the EventStore contract`, () => {
    test('no append before a fence is claimed', async () => {
      const { store } = await makeStore();
      const t = task();
      const error = await refused(create(store, t));
      assert.ok(error instanceof NotLeaderError, String(error));
      assert.equal(error.fence, null);
      assert.deepEqual(await store.readStream(t.stream), []);
    });

    test('a moved fence refuses the old writer and names the new one', async () => {
      const { store, claim } = await makeStore();
      await claim(n1);
      await claim(n2);
      const t = task();
      const error = await refused(create(store, t));
      assert.ok(error instanceof NotLeaderError, String(error));
      assert.deepEqual(error.fence, n2);
      // Same term, other node: not the fence either.
      await assert.rejects(
        store.append({ term: 2, nodeId: 'n3' }, [
          { stream: t.stream, expectedVersion: 0, events: [created(t.id)] },
        ]),
        NotLeaderError,
      );
      assert.deepEqual(await store.readStream(t.stream), []);
    });

    test('appended events carry versions, growing positions, the fence and the key on the first only', async () => {
      const store = await led();
      const t = task();
      const result = await store.append(
        n1,
        [{ stream: t.stream, expectedVersion: 0, events: [created(t.id), updated(t.id, 'b')] }],
        { idempotencyKey: 'k-events' },
      );
      assert.equal(result.kind, 'appended');
      const events = await store.readStream(t.stream);
      assert.deepEqual(result.kind === 'appended' ? result.events : [], events);
      assert.deepEqual(
        events.map((e) => [e.version, e.type, e.term, e.nodeId, e.metadata.idempotencyKey]),
        [
          [1, 'TaskCreated', 1, 'n1', 'k-events'],
          [2, 'TaskUpdated', 1, 'n1', undefined],
        ],
      );
      const [a, b] = events;
      assert.ok(a && b && a.position < b.position);
      assert.deepEqual(b.data, { id: t.id, title: 'b' });
    });

    test('an append not at the expected version is a VersionConflictError and writes nothing', async () => {
      const store = await led();
      const t = task();
      await create(store, t);
      const error = await refused(
        store.append(n1, [{ stream: t.stream, expectedVersion: 0, events: [updated(t.id, 'late')] }]),
      );
      assert.ok(error instanceof VersionConflictError, String(error));
      assert.deepEqual([error.stream, error.expected, error.actual], [t.stream, 0, 1]);
      await store.append(n1, [{ stream: t.stream, expectedVersion: 1, events: [updated(t.id, 'b')] }]);
      await store.append(n1, [{ stream: t.stream, expectedVersion: 'any', events: [updated(t.id, 'c')] }]);
      assert.equal((await store.readStream(t.stream)).length, 3);
    });

    test('an append to several streams is all or nothing', async () => {
      const store = await led();
      const [a, b] = [task(), task()];
      await store.append(n1, [{ stream: b.stream, expectedVersion: 0, events: [created(b.id)] }]);
      await assert.rejects(
        store.append(n1, [
          { stream: a.stream, expectedVersion: 0, events: [created(a.id)] },
          { stream: b.stream, expectedVersion: 0, events: [updated(b.id, 'x')] },
        ]),
        VersionConflictError,
      );
      assert.deepEqual(await store.readStream(a.stream), []);
      assert.equal((await store.readStream(b.stream)).length, 1);
    });

    test('a repeated idempotency key answers with the first append and writes nothing', async () => {
      const store = await led();
      const [a, b] = [task(), task()];
      const first = await create(store, a, 'k-repeat');
      const again = await create(store, b, 'k-repeat');
      assert.ok(first.kind === 'appended' && again.kind === 'duplicate');
      assert.deepEqual(again.first, first.events[0]);
      assert.deepEqual(await store.readStream(b.stream), []);
      assert.deepEqual(await store.findByIdempotencyKey('k-repeat'), again.first);
      assert.equal(await store.findByIdempotencyKey('k-unused'), null);
    });

    test('a repeated key wins over a stale version (the first answer, not a conflict)', async () => {
      const store = await led();
      const t = task();
      await create(store, t, 'k-stale');
      assert.equal((await create(store, t, 'k-stale')).kind, 'duplicate');
    });

    test('appendAll checks each append on its own, in order', async () => {
      const store = await led();
      const [a, b, c] = [task(), task(), task()];
      await store.append(n1, [{ stream: c.stream, expectedVersion: 0, events: [created(c.id)] }]);
      const results = await Promise.allSettled(
        store.appendAll(n1, [
          {
            appends: [{ stream: a.stream, expectedVersion: 0, events: [created(a.id)] }],
            options: { idempotencyKey: 'k-all' },
          },
          // the same stream again, after the first: sees its write
          { appends: [{ stream: a.stream, expectedVersion: 1, events: [updated(a.id, 'a2')] }] },
          // a conflict: refused alone
          { appends: [{ stream: c.stream, expectedVersion: 0, events: [updated(c.id, 'c2')] }] },
          // the key of the first: a duplicate of it
          {
            appends: [{ stream: b.stream, expectedVersion: 0, events: [created(b.id)] }],
            options: { idempotencyKey: 'k-all' },
          },
        ]),
      );
      assert.deepEqual(
        results.map((r) =>
          r.status === 'fulfilled'
            ? r.value.kind
            : r.reason instanceof VersionConflictError
              ? 'conflict'
              : String(r.reason),
        ),
        ['appended', 'appended', 'conflict', 'duplicate'],
      );
      assert.deepEqual(
        (await store.readStream(a.stream)).map((e) => e.version),
        [1, 2],
      );
      assert.deepEqual(await store.readStream(b.stream), []);
      assert.equal((await store.readStream(c.stream)).length, 1);
    });

    test('appendAll under an old fence refuses every append', async () => {
      const { store, claim } = await makeStore();
      await claim(n1);
      await claim(n2);
      const t = task();
      const results = await Promise.allSettled(
        store.appendAll(n1, [
          { appends: [{ stream: t.stream, expectedVersion: 0, events: [created(t.id)] }] },
        ]),
      );
      assert.ok(results[0]?.status === 'rejected' && results[0].reason instanceof NotLeaderError);
    });

    test('an event that does not match its schema is refused and nothing is written', async () => {
      const store = await led();
      const t = task();
      const bad = { type: 'TaskUpdated', data: { id: t.id, title: 7 } } as unknown as DomainEvent;
      await assert.rejects(
        store.append(n1, [{ stream: t.stream, expectedVersion: 'any', events: [bad] }]),
        /invalid TaskUpdated event: title/,
      );
      assert.deepEqual(await store.readStream(t.stream), []);
    });

    test('reads several streams and keys at once', async () => {
      const store = await led();
      const [a, b, none] = [task(), task(), task()];
      await store.append(
        n1,
        [{ stream: a.stream, expectedVersion: 0, events: [created(a.id), updated(a.id, 'a2')] }],
        {
          idempotencyKey: 'k-read-a',
        },
      );
      await store.append(n1, [{ stream: b.stream, expectedVersion: 0, events: [created(b.id)] }]);
      const streams = await store.readStreams([a.stream, b.stream, none.stream]);
      assert.deepEqual(
        [...streams].map(([s, events]) => [s, events.map((e) => e.version)]),
        [
          [a.stream, [1, 2]],
          [b.stream, [1]],
          [none.stream, []],
        ],
      );
      const { histories, firsts } = await store.readStreamsAndKeys(
        [b.stream, none.stream],
        ['k-read-a', 'k-none'],
      );
      assert.deepEqual([...histories.keys()].sort(), [b.stream, none.stream].sort());
      assert.equal(histories.get(b.stream)?.length, 1);
      assert.deepEqual([...firsts.keys()], ['k-read-a']);
      assert.equal(firsts.get('k-read-a')?.stream, a.stream);
      assert.equal(firsts.get('k-read-a')?.version, 1);
    });
  });
}
