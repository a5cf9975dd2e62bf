/**
 * Finding the writable primary among the hosts of a URL, on a real PostgreSQL (embedded): a host
 * that does not answer is skipped, one that hangs does not hold up the others, a read-only one is
 * refused, a wait for a primary ends when a host becomes writable, a pool connection that
 * finds its server read-only is destroyed instead of going back to the pool, and one whose host
 * went silent is given up after the pool's query timeout.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { freePort, startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { parseDatabaseUrl } from './database-url.js';
import { EventStore, type Fence } from './event-store.js';
import { PrimaryLocator } from './primary-locator.js';
import { isFailoverInProgress, isPrimaryLost, NoWritablePrimaryError } from './primary-lost.js';
import { storeSql } from './store-sql.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(() => pg.stop());

/** The database's URL with a host nothing listens on before the real one. */
async function withDeadHostFirst(url: string, attrs = 'read-write'): Promise<string> {
  const dead = await freePort();
  return `${url.replace('@127.0.0.1:', `@127.0.0.1:${dead},127.0.0.1:`)}?target_session_attrs=${attrs}`;
}

const n1: Fence = { term: 1, nodeId: 'n1' };
const created = () => ({
  stream: `task-${randomUUID()}`,
  expectedVersion: 0 as const,
  events: [
    {
      type: 'TaskCreated' as const,
      data: { id: randomUUID(), title: 't', description: null, status: 'TODO' as const, createdBy: 'n1' },
    },
  ],
});

test('a host that does not answer is skipped', async () => {
  const url = await withDeadHostFirst(await pg.createDatabase());
  const locator = new PrimaryLocator(parseDatabaseUrl(url));
  const client = await locator.connect();
  try {
    const { rows } = await client.query('select inet_server_port() as port');
    assert.equal(rows[0].port, pg.port);
  } finally {
    await client.end();
  }
});

test('a host that takes connections but never answers does not hold up the search', async (t) => {
  // A machine that died with its sockets half open: the TCP handshake completes, nothing follows.
  const silent: Socket[] = [];
  const server = createServer((socket) => silent.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of silent) socket.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const url = await pg.createDatabase();
  const both = `${url.replace('@127.0.0.1:', `@127.0.0.1:${port},127.0.0.1:`)}?target_session_attrs=read-write`;
  const client = await new PrimaryLocator(parseDatabaseUrl(both)).connect();
  try {
    const { rows } = await client.query('select inet_server_port() as port');
    assert.equal(rows[0].port, pg.port);
    // Found while the silent host still holds its attempt (it is given up only at its timeout).
    assert.ok(silent.some((socket) => !socket.destroyed));
  } finally {
    await client.end();
  }
});

test('a wait for a primary ends when a host becomes writable', async () => {
  const url = await pg.createDatabase();
  const name = new URL(url).pathname.slice(1);
  const admin = await new PrimaryLocator(parseDatabaseUrl(url)).connect();
  await admin.query(`alter database ${name} set default_transaction_read_only = on`);
  const locator = new PrimaryLocator(parseDatabaseUrl(await withDeadHostFirst(url)));
  // No host writable, one answering as read-only: a failover in progress, as a node sees one.
  await assert.rejects(locator.connect(), (e: Error) => isFailoverInProgress(e));
  const waiting = locator.connect(30_000);
  await admin.query(`alter database ${name} reset default_transaction_read_only`);
  await admin.end();
  const client = await waiting;
  try {
    const { rows } = await client.query("select current_setting('transaction_read_only') as ro");
    assert.equal(rows[0].ro, 'off');
  } finally {
    await client.end();
  }
});

test('a read-only server is refused, with every host and why in one error', async () => {
  const url = await pg.createDatabase();
  const name = new URL(url).pathname.slice(1);
  const admin = new PrimaryLocator(parseDatabaseUrl(url));
  const client = await admin.connect();
  await client.query(`alter database ${name} set default_transaction_read_only = on`);
  await client.end();
  const locator = new PrimaryLocator(parseDatabaseUrl(await withDeadHostFirst(url)));
  await assert.rejects(locator.connect(), (e: Error) => {
    assert.ok(e instanceof NoWritablePrimaryError);
    assert.match(
      e.message,
      /^no writable primary among the database hosts \(127\.0\.0\.1:\d+: .*ECONNREFUSED.*; 127\.0\.0\.1:\d+ is read-only\)$/,
    );
    assert.equal(isPrimaryLost(e), true);
    return true;
  });
});

test('a pool connection whose server turned read-only is destroyed, not reused', async (t) => {
  const url = await withDeadHostFirst(await pg.createDatabase());
  const orm = await openDatabase(url, { poolSize: 1 });
  t.after(() => orm.close());
  const store = new EventStore(orm);
  await store.fence.claim(n1, 'http://n1');
  const db = storeSql(orm);
  // The pool's one connection becomes read-only, as a primary fenced by its failover manager.
  const before = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  await sql`set session default_transaction_read_only = on`.execute(db);
  await assert.rejects(store.append(n1, [created()]), (e: Error) => isPrimaryLost(e));
  assert.equal((await store.append(n1, [created()])).kind, 'appended', 'on a new connection');
  const after = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  assert.notEqual(after.rows[0]?.pid, before.rows[0]?.pid);
});

/**
 * A TCP relay to the database whose open connections can go silent: nothing more passes either
 * way and nothing is closed, as when a host vanishes without a reset. New connections pass.
 */
async function silentRelay(port: number) {
  const open: Socket[][] = [];
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    for (const socket of [client, upstream]) socket.on('error', () => {});
    open.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    silence() {
      for (const [client, upstream] of open) {
        client?.unpipe();
        upstream?.unpipe();
        client?.pause();
        upstream?.pause();
      }
    },
    close() {
      for (const socket of open.flat()) socket.destroy();
      server.close();
    },
  };
}

test('a pool query to a host gone silent (no reset) fails after the query timeout, and the next one goes on a new connection', async (t) => {
  const url = await pg.createDatabase();
  const relay = await silentRelay(pg.port);
  t.after(() => relay.close());
  const through = `${url.replace(`@127.0.0.1:${pg.port}/`, `@127.0.0.1:${relay.port}/`)}?target_session_attrs=read-write`;
  const orm = await openDatabase(through, { poolSize: 1, queryTimeoutMs: 300 });
  t.after(() => orm.close());
  const db = storeSql(orm);
  const before = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  relay.silence();
  // Without a bound, this query would wait for TCP to give up (never, on this relay).
  await assert.rejects(sql`select 1`.execute(db), (e: Error) => isPrimaryLost(e));
  const after = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  assert.notEqual(after.rows[0]?.pid, before.rows[0]?.pid);
});
