/**
 * A node's store on a real failover manager: two Patroni members in synchronous mode
 * (test-support/patroni.ts), reached through libpq's multi-host URL. Appends go on through a
 * planned switchover and through the primary's host dying; no acknowledged one is lost or
 * doubled, the pool never stays on the demoted server, the event feed delivers each event once,
 * and the fence keeps a deposed leader out on the new primary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import type { PatroniCluster } from '../../launcher/patroni-cluster.js';
import type { DomainEvent } from '../../schema/events.js';
import { startTestPatroni } from '../../test-support/patroni.js';
import { openDatabase } from './database.js';
import { parseDatabaseUrl } from './database-url.js';
import { EventFeed } from './event-feed.js';
import { EventStore, type Fence } from './event-store.js';
import { PrimaryLocator } from './primary-locator.js';
import { isPrimaryLost } from './primary-lost.js';
import { PrimaryWatch } from './primary-watch.js';
import { NotLeaderError } from './store-errors.js';
import { storeSql } from './store-sql.js';
import type { StoredEvent } from './stored-event.js';

const n1: Fence = { term: 1, nodeId: 'n1' };

let cluster: PatroniCluster;
let orm: MikroORM;
let store: EventStore;
let feed: EventFeed;
/** Everything the feed delivered to one subscriber opened before any failover. */
const delivered: StoredEvent[] = [];
let subscription: AsyncIterableIterator<StoredEvent>;
const deliveryWaiters = new Set<() => void>();

/** Resolves once the subscriber has been delivered the event at `position`. */
function delivery(position: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if ((delivered.at(-1)?.position ?? 0) < position) return;
      deliveryWaiters.delete(check);
      resolve();
    };
    deliveryWaiters.add(check);
    check();
  });
}
/** Idempotency key → the position the store acknowledged it at. */
const acknowledged = new Map<string, number>();
let nextItem = 0;

before(async () => {
  cluster = await startTestPatroni({
    onLog: (who, line) => {
      if (process.env.PATRONI_LOG) console.error(`[${who}] ${line}`);
    },
  });
  orm = await openDatabase(cluster.url);
  store = new EventStore(orm);
  feed = await EventFeed.start(cluster.url, store, pino({ level: 'silent' }));
  await store.fence.claim(n1, 'http://n1');
  subscription = feed.subscribe({ afterPosition: 0 });
  void (async () => {
    for await (const e of subscription) {
      delivered.push(e);
      for (const w of [...deliveryWaiters]) w();
    }
  })();
});
after(async () => {
  await subscription?.return?.();
  await feed?.stop();
  await orm?.close();
  await cluster?.stop();
});

const portOf = (name: string) => Number(new URL(cluster.memberUrls[name] as string).port);

const taskCreated = (id: string): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title: `task ${id}`, description: null, status: 'TODO', createdBy: 'n1' },
});

/** One task created with its own idempotency key, retried (same key) until acknowledged. */
async function appendOne(): Promise<void> {
  const item = nextItem++;
  const key = `create-${item}`;
  const deadline = performance.now() + 45_000;
  for (;;) {
    try {
      const result = await store.append(
        n1,
        [
          {
            stream: `task-${item}`,
            expectedVersion: 0,
            events: [taskCreated(randomUUID())],
          },
        ],
        { idempotencyKey: key },
      );
      const first = result.kind === 'appended' ? result.events[0] : result.first;
      acknowledged.set(key, first?.position ?? Number.NaN);
      return;
    } catch (error) {
      // A client of the API retries the same way: same key, after the primary moved.
      if (!isPrimaryLost(error) || performance.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** Appends one after another until `during` has settled, then `after` more. */
async function appendAcross(during: Promise<unknown>, after: number): Promise<void> {
  let settled = false;
  const done = during.finally(() => {
    settled = true;
  });
  while (!settled) await appendOne();
  await done;
  for (let i = 0; i < after; i++) await appendOne();
}

/** Every connection the pool holds now (all busy at once) answers from `primary`, not in recovery. */
async function assertPoolOnPrimary(primary: string): Promise<void> {
  const db = storeSql(orm);
  const answers = await Promise.all(
    Array.from({ length: 10 }, () =>
      db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ port: number; recovery: boolean }>`
          select inet_server_port() as port, pg_is_in_recovery() as recovery from pg_sleep(0.05)`.execute(
          trx,
        );
        return rows[0];
      }),
    ),
  );
  for (const a of answers) assert.deepEqual(a, { port: portOf(primary), recovery: false });
}

test('appends go on through a switchover and land on the new primary', { timeout: 90_000 }, async () => {
  const before = await cluster.waitForPrimary();
  for (let i = 0; i < 5; i++) await appendOne();
  await assertPoolOnPrimary(before);
  let promoted = '';
  await appendAcross(
    cluster.switchover().then((name) => {
      promoted = name;
    }),
    5,
  );
  assert.notEqual(promoted, before);
  await assertPoolOnPrimary(promoted);
  await cluster.waitForPrimary(); // the old primary streams again as the sync standby
});

test('a standby watched during a switchover is seen promoted on the connection kept to it', {
  timeout: 90_000,
}, async () => {
  const before = await cluster.waitForPrimary();
  const locator = new PrimaryLocator(parseDatabaseUrl(cluster.url));
  const standby = locator.url.hosts.find((h) => h.config.port !== portOf(before));
  assert.ok(standby);
  /** Per connection the watch opened: its answers to "in recovery?", in order. */
  const answers = new Map<pg.Client, boolean[]>();
  const watch = new PrimaryWatch(
    [standby],
    {
      client: (host) => new pg.Client(locator.configFor(host)),
      state: async (client) => {
        const state = await locator.state(client);
        answers.set(client, [...(answers.get(client) ?? []), state.inRecovery]);
        return state;
      },
    },
    () => true,
  );
  const [found, promoted] = await Promise.all([watch.found, cluster.switchover()]);
  assert.equal(found, standby);
  assert.equal(portOf(promoted), standby.config.port);
  // A session lives through its server's promotion: the connection that saw the standby writable
  // had seen it in recovery first — no new connection (nor its authentication) came between.
  const seen = [...answers.values()].find((a) => a.at(-1) === false);
  assert.deepEqual([seen?.[0], seen?.at(-1)], [true, false]);
  await cluster.waitForPrimary();
});

test("appends go on when the primary's host dies", { timeout: 90_000 }, async () => {
  const before = await cluster.waitForPrimary();
  let killed = '';
  await appendAcross(
    cluster.killPrimaryHost().then(async (name) => {
      killed = name;
      return cluster.waitForPrimary({ not: name, standbys: false });
    }),
    5,
  );
  assert.equal(killed, before);
  const promoted = (await cluster.primary()) as string;
  assert.notEqual(promoted, killed);
  await assertPoolOnPrimary(promoted);
  await cluster.startMember(killed);
  await cluster.waitForPrimary();
  await assertPoolOnPrimary(promoted);
});

test('every acknowledged append is in the log exactly once, in order, and the feed delivered each once', async () => {
  assert.ok(acknowledged.size >= 20, `acknowledged ${acknowledged.size}`);
  const log = await store.readAll({ afterPosition: 0, limit: 10_000 });
  const tasks = log.filter((e) => e.type === 'TaskCreated');
  assert.equal(tasks.length, acknowledged.size, 'one event per acknowledged append, none extra');
  assert.deepEqual(
    tasks.map((e) => e.position),
    [...acknowledged.values()].sort((a, b) => a - b),
    'each at the position it was acknowledged at',
  );
  const positions = log.map((e) => e.position);
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
  );
  const last = positions.at(-1) as number;
  await delivery(last);
  assert.deepEqual(
    delivered.map((e) => e.position),
    positions,
    'the subscriber saw every event once, in order',
  );
});

test('the fence keeps a deposed leader out on the new primary', async () => {
  const claimed = await store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
  assert.equal(claimed?.type, 'LeaderElected');
  await assert.rejects(
    store.append(n1, [{ stream: 'task-late', expectedVersion: 0, events: [taskCreated(randomUUID())] }]),
    NotLeaderError,
  );
  assert.deepEqual(await store.fence.current(), { term: 2, nodeId: 'n2' });
});
