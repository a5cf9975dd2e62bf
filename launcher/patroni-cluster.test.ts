import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { startTestPatroni } from '../test-support/patroni.js';
import { type PatroniCluster, validatePatroniTiming } from './patroni-cluster.js';

// pg 8.23 cannot parse a multi-host URL ("Invalid URL"): libpq's psql follows target_session_attrs.
async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await promisify(execFile)('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
  return stdout.trim();
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

let cluster: PatroniCluster;
const portOf = (name: string) => Number(new URL(cluster.memberUrls[name] as string).port);
/** Write a row through the multi-host URL; returns the port of the server that took it. */
const writeThroughUrl = async (value: string) =>
  Number(await psql(cluster.url, `insert into writes values ('${value}'); select inet_server_port()`));

before(async () => {
  cluster = await startTestPatroni();
});
after(async () => {
  await cluster?.stop();
});

test("Patroni's timing rule is checked with a clear error", () => {
  assert.throws(
    () => validatePatroniTiming({ ttl: 6, loopWait: 1, retryTimeout: 3 }),
    /loopWait \+ 2 × retryTimeout ≤ ttl: 1 \+ 2 × 3 > 6/,
  );
  validatePatroniTiming({ ttl: 7, loopWait: 1, retryTimeout: 3 });
});

test('two members come up: one primary and a synchronous standby', async () => {
  const members = await cluster.members();
  assert.deepEqual(members.map((m) => m.role).sort(), ['leader', 'sync_standby']);
  const primary = await cluster.primary();
  const standby = cluster.names.find((n) => n !== primary) as string;
  const replication = await query<{ application_name: string; sync_state: string }>(
    cluster.memberUrls[primary as string] as string,
    'select application_name, sync_state from pg_stat_replication',
  );
  assert.deepEqual(replication, [{ application_name: standby, sync_state: 'sync' }]);
  await psql(cluster.url, 'create table writes (value text primary key)');
});

test('a write through the multi-host URL lands on the primary', async () => {
  const primary = (await cluster.primary()) as string;
  assert.equal(await writeThroughUrl('first'), portOf(primary));
});

test('a switchover moves the primary; the old one follows as sync standby and the URL follows the move', async () => {
  const before = (await cluster.primary()) as string;
  const after = await cluster.switchover();
  assert.notEqual(after, before);
  assert.equal(await writeThroughUrl('after switchover'), portOf(after));
  await cluster.waitForPrimary();
  const members = await cluster.members();
  assert.equal(members.find((m) => m.name === before)?.role, 'sync_standby');
  assert.deepEqual(
    await query(cluster.memberUrls[before] as string, 'select pg_is_in_recovery() as standby'),
    [{ standby: true }],
  );
});

test('killing the primary host promotes the standby with every acknowledged write; the old primary rejoins', async () => {
  await writeThroughUrl('acknowledged before the kill');
  const killed = await cluster.killPrimaryHost();
  assert.deepEqual(
    cluster.running(),
    cluster.names.filter((n) => n !== killed),
  );
  const promoted = await cluster.waitForPrimary({ not: killed });
  const rows = await query<{ value: string }>(
    cluster.memberUrls[promoted] as string,
    'select value from writes order by value',
  );
  assert.deepEqual(
    rows.map((r) => r.value),
    ['acknowledged before the kill', 'after switchover', 'first'],
  );
  assert.equal(await writeThroughUrl('after the kill'), portOf(promoted));

  await cluster.startMember(killed);
  const members = await cluster.members();
  assert.equal(members.find((m) => m.name === killed)?.role, 'sync_standby');
  assert.equal(await cluster.primary(), promoted);
});

test('stop leaves no Patroni, PostgreSQL or etcd process behind', async () => {
  const ours = () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cluster.dataDir);
        } catch {
          return false;
        }
      });
  assert.ok(ours().length >= 5, 'etcd, Patroni and PostgreSQL run before stop');
  await cluster.stop();
  assert.deepEqual(ours(), []);
});
