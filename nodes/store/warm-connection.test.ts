/**
 * The node's pool is warm before the first append (./warm-connection.ts): its connections are
 * open at start and stay open, and the warm-up call never waits on, nor holds, the fence lock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { streams } from '../../schema/events.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { appendBatchCall, type BatchResult, EventLog, type Fence, type FencedAppend } from './event-log.js';
import { EventStore } from './event-store.js';
import { REHEARSAL_FENCE } from './rehearsal-fence.js';
import { NotLeaderError } from './store-errors.js';
import { storeSql } from './store-sql.js';
import { poolWarmUp, START_REHEARSALS, WARM_CONNECTIONS, warmConnection } from './warm-connection.js';

let postgres: TestPostgres;
let url: string;
let orm: MikroORM;

before(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase();
  orm = await openDatabase(url);
});
after(async () => {
  await orm?.close();
  await postgres?.stop();
});

async function withClient<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

test('the pool has its warm connections open once the database is opened', async () => {
  const open = await withClient(async (c) => {
    const { rows } = await c.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return rows[0]?.n ?? 0;
  });
  assert.ok(open >= WARM_CONNECTIONS, `${open} connections open, expected at least ${WARM_CONNECTIONS}`);
});

/** The generic plans this session keeps of the claim's own statements (its Node row and fence row). */
async function claimPlansKept(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query<{ statement: string }>(
    `select left(regexp_replace(ident, '\\s+', ' ', 'g'), 64) as statement
      from pg_backend_memory_contexts where name = 'CachedPlan' order by 1`,
  );
  const claims = [
    'insert into node (id, url, role, term, last_seen_at) select v_id',
    'select l.term, l.node_id from leadership l',
    'insert into leadership (singleton, term, node_id, claimed_at)',
  ];
  return rows
    .map((r) => r.statement)
    .filter((st) => claims.some((c) => c.startsWith(st) || st.startsWith(c)));
}

/** The claim's plans a fresh connection keeps after `runs` rehearsals. */
function claimPlansAfter(runs: number): Promise<string[]> {
  return withClient(async (c) => {
    await warmConnection(c, runs);
    return claimPlansKept(c);
  });
}

test("rehearsed as at start, a connection keeps generic plans of the claim's statements; rehearsed once, it does not", async () => {
  // Once: planned for their parameters, and not kept — the real claim plans them again.
  assert.deepEqual(await claimPlansAfter(1), []);
  assert.deepEqual(await claimPlansAfter(START_REHEARSALS), [
    'insert into leadership (singleton, term, node_id, claimed_at) se',
    'insert into node (id, url, role, term, last_seen_at) select v_id',
    'select l.term, l.node_id from leadership l where l.singleton and',
  ]);
});

test("a pool's first connections are warmed as at start, later ones once", async () => {
  const warmUp = poolWarmUp();
  const kept: number[] = [];
  for (let i = 0; i <= WARM_CONNECTIONS; i++) {
    kept.push(
      await withClient(async (c) => {
        await warmUp(c);
        return (await claimPlansKept(c)).length;
      }),
    );
  }
  assert.deepEqual(kept, [...Array(WARM_CONNECTIONS).fill(3), 0]);
});

/** What a warm-up must leave as it was: the log, the fence, the Node table. */
async function stored(): Promise<unknown> {
  return withClient(async (c) => ({
    events: (await c.query('select count(*)::int as n from event')).rows[0],
    fence: (await c.query('select * from leadership')).rows,
    nodes: (await c.query('select * from node order by id')).rows,
  }));
}

test('warming a connection (a claim rehearsed too) neither waits for the fence lock nor stores anything', async () => {
  const store = new EventStore(orm);
  await store.fence.claim({ term: 1, nodeId: 'n1' }, 'http://n1');
  await withClient(async (holder) => {
    // A leader's append in progress: the fence row locked until this transaction ends; and the
    // Node row a claim upserts, locked too.
    await holder.query('begin');
    await holder.query('select 1 from leadership where singleton for update');
    await holder.query(`select 1 from node where id = 'n1' for update`);
    try {
      const before = await stored();
      // With the locks held elsewhere, a call that took one would block: lock_timeout turns that into an error.
      await withClient(async (c) => {
        await c.query(`set lock_timeout = '2s'`);
        await warmConnection(c);
      });
      assert.deepEqual(await stored(), before);
    } finally {
      await holder.query('rollback');
    }
  });
  // The fence works as before on a connection that rehearsed: a newer term claims it.
  await store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
  assert.deepEqual(await store.fence.current(), { term: 2, nodeId: 'n2' });
});

test('a claim rehearsed on a database never claimed creates no fence and does not lock the table', async () => {
  const fresh = await postgres.createDatabase();
  const freshOrm = await openDatabase(fresh, { poolSize: 1 });
  await freshOrm.close();
  const client = new pg.Client(fresh);
  const holder = new pg.Client(fresh);
  await client.connect();
  await holder.connect();
  try {
    // Conflicts with the EXCLUSIVE lock a first real claim takes, not with a zero-row statement's.
    await holder.query('begin');
    await holder.query('lock table leadership in row exclusive mode');
    await client.query(`set lock_timeout = '2s'`);
    await warmConnection(client);
    await holder.query('rollback');
    const { rows } = await client.query(
      'select (select count(*)::int from leadership) as fences, (select count(*)::int from node) as nodes',
    );
    assert.deepEqual(rows[0], { fences: 0, nodes: 0 });
  } finally {
    await client.end();
    await holder.end();
  }
});

test('a non-empty batch still waits for the fence lock', async () => {
  await withClient(async (holder) => {
    await holder.query('begin');
    await holder.query('select 1 from leadership where singleton for update');
    try {
      await withClient(async (c) => {
        await c.query(`set lock_timeout = '200ms'`);
        const batch = [{ term: 1, node: 'n1', createdAt: new Date().toISOString(), blobs: [], entries: [] }];
        await assert.rejects(
          c.query(`select append_batch($1::jsonb, '{}'::bytea[])`, [JSON.stringify(batch)]),
          /lock timeout/,
        );
      });
    } finally {
      await holder.query('rollback');
    }
  });
});

/** One new task under `fence`, as `append_batch` takes it. */
function taskAppend(fence: Fence): { append: FencedAppend; stream: string } {
  const id = randomUUID();
  const stream = streams.task(id);
  const data = { id, title: 'a task', description: null, status: 'TODO', createdBy: fence.nodeId } as const;
  return {
    stream,
    append: {
      fence,
      appends: [{ stream, expectedVersion: 0, events: [{ type: 'TaskCreated', data }] }],
      options: { idempotencyKey: randomUUID() },
    },
  };
}

test('a batch of rehearsals runs on rows, without the fence lock, and keeps nothing, in a transaction that commits', async () => {
  const { append } = taskAppend(REHEARSAL_FENCE);
  await withClient(async (holder) => {
    await holder.query('begin');
    await holder.query('select 1 from leadership where singleton for update');
    try {
      const before = await stored();
      await withClient(async (c) => {
        await c.query(`set lock_timeout = '2s'`);
        await c.query('begin');
        const { rows } = await c.query<{ result: BatchResult }>(
          `select append_batch($1::jsonb, '{}'::bytea[]) as result`,
          [appendBatchCall([append]).appends],
        );
        const answer = rows[0]?.result;
        assert.equal(answer?.rehearsed, true, 'answered as a rehearsal');
        assert.deepEqual(answer.outcomes, [null], 'the rehearsed append was accepted');
        assert.equal(answer.inserted.length, 1, 'and its event inserted');
        assert.ok((answer.inserted[0]?.[2] ?? 0) < 0, 'at a position no real event has');
        const { command } = await c.query('commit');
        assert.equal(command, 'COMMIT', "the caller's transaction is not failed");
      });
      assert.deepEqual(await stored(), before);
    } finally {
      await holder.query('rollback');
    }
  });
});

test("a rehearsal runs the projection: a TaskCreated of a task that exists fails on the task's key", async () => {
  const store = new EventStore(orm);
  const current = await store.fence.current();
  const fence = { term: (current?.term ?? 0) + 1, nodeId: 'n8' };
  await store.fence.claim(fence, 'http://n8');
  const real = taskAppend(fence);
  await new EventLog(storeSql(orm)).appendBatch([real.append]);
  const again = { ...real.append, fence: REHEARSAL_FENCE, options: {} };
  const twin = { ...again, appends: again.appends.map((a) => ({ ...a, stream: `${a.stream}-twin` })) };
  await withClient(async (c) => {
    await assert.rejects(
      c.query(`select append_batch($1::jsonb, '{}'::bytea[])`, [appendBatchCall([twin]).appends]),
      (error: { code?: string }) => error.code === '23505',
    );
  });
});

test('rehearsals and real appends in one batch: the real ones are stored, the rehearsals refused as NOT_LEADER', async () => {
  const store = new EventStore(orm);
  const current = await store.fence.current();
  const fence = { term: (current?.term ?? 0) + 1, nodeId: 'n9' };
  await store.fence.claim(fence, 'http://n9');
  const log = new EventLog(storeSql(orm));
  const rehearsal = taskAppend(REHEARSAL_FENCE);
  const real = taskAppend(fence);
  const [refused, appended] = await log.appendBatch([rehearsal.append, real.append]);
  assert.equal(refused?.status, 'rejected');
  assert.ok(refused.status === 'rejected' && refused.reason instanceof NotLeaderError);
  assert.equal(appended?.status === 'fulfilled' && appended.value.kind, 'appended');
  assert.equal((await store.readStream(real.stream)).length, 1);
  assert.deepEqual(await store.readStream(rehearsal.stream), []);

  // A batch of rehearsals alone: each refused as NOT_LEADER with no fence, nothing stored, and no
  // position drawn from the log's sequence (the next real event follows the last one).
  const head = await store.readLatestPosition();
  const alone = taskAppend(REHEARSAL_FENCE);
  const [result] = await log.appendBatch([alone.append]);
  assert.ok(result?.status === 'rejected' && result.reason instanceof NotLeaderError);
  assert.equal(result.reason.fence, null);
  assert.deepEqual(await store.readStream(alone.stream), []);
  const next = taskAppend(fence);
  await log.appendBatch([next.append]);
  assert.deepEqual(
    (await store.readStream(next.stream)).map((e) => e.position),
    [head + 1],
  );
});
