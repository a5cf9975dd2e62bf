/**
 * The node's pool is warm before the first append (./warm-connection.ts): its connections are
 * open at start and stay open, and the warm-up call never waits on, nor holds, the fence lock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { EventStore } from './event-store.js';
import { WARM_CONNECTIONS, warmConnection } from './warm-connection.js';

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

test('warming a connection neither waits for the fence lock nor stores anything', async () => {
  const store = new EventStore(orm);
  await store.fence.claim({ term: 1, nodeId: 'n1' }, 'http://n1');
  await withClient(async (holder) => {
    // A leader's append in progress: the fence row locked until this transaction ends.
    await holder.query('begin');
    await holder.query('select 1 from leadership where singleton for update');
    try {
      const before = await withClient(
        async (c) => (await c.query('select count(*)::int as n from event')).rows[0],
      );
      // With the lock held elsewhere, a call that took it would block: lock_timeout turns that into an error.
      await withClient(async (c) => {
        await c.query(`set lock_timeout = '2s'`);
        await warmConnection(c);
      });
      const after = await withClient(
        async (c) => (await c.query('select count(*)::int as n from event')).rows[0],
      );
      assert.deepEqual(after, before);
    } finally {
      await holder.query('rollback');
    }
  });
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
