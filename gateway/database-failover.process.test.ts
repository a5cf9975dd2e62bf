/**
 * The database's primary moves under a steady write load through the gateway, on a real Patroni
 * cluster (two members in synchronous mode, test-support/patroni.ts): a planned switchover, then
 * the primary's host killed (Patroni and PostgreSQL, kill -9) and brought back as a standby. The
 * writes in flight are caught by the failover (SERVICE_UNAVAILABLE at the node); the gateway
 * resends them with their keys until the new primary takes them, so no client sees a refusal,
 * and every acknowledged write is stored exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { PatroniCluster } from '../launcher/patroni-cluster.js';
import type { ServiceProcess } from '../launcher/service-process.js';
import type { FailoverTestTasksQuery, FailoverTestTasksQueryVariables } from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import { freePortRange } from '../test-support/free-port-range.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayProcess,
  gatewayUrlOf,
  startGateway,
} from '../test-support/gateway-stack.js';
import { startTestPatroni } from '../test-support/patroni.js';
import { type Ack, SteadyWriter } from '../test-support/steady-writer.js';

const TOKEN = 'dbfailover-test-token-0123456789';
const SECRET = 'dbfailover-test-secret-0123456789';
/** The gateway holds a write through a whole failover: Patroni's ttl (8 s) and a promotion. */
const LEADER_WAIT_MS = 30_000;

let patroni: PatroniCluster;
let cluster: LocalCluster;
let gateway: ServiceProcess;
let gatewayUrl: string;

before(async () => {
  patroni = await startTestPatroni({ database: 'gwfailover' });
  const basePort = await freePortRange(14);
  const stack = { basePort, secret: SECRET, apiToken: TOKEN };
  gatewayUrl = gatewayUrlOf(basePort);
  gateway = gatewayProcess(stack, { env: { LOG_LEVEL: 'info', LEADER_WAIT_MS: String(LEADER_WAIT_MS) } });
  await startGateway(gateway);
  cluster = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-dbfailover-')),
    databaseUrl: patroni.url,
  });
  cluster.startAll();
  await cluster.waitForReady();
  await cluster.waitForAgreement(30_000);
  await gatewayLeader(gatewayUrl);
});

after(async () => {
  await gateway?.stop();
  await cluster?.stopAll();
  await patroni?.stop();
});

/** Writes through the gateway while `fault` runs, and after; never resent by the client. */
async function underLoad(prefix: string, fault: () => Promise<void>): Promise<Ack[]> {
  const writer = new SteadyWriter({ gatewayUrl, apiToken: TOKEN, prefix, clients: 4 });
  writer.start();
  try {
    await writer.more(20);
    await fault();
    await writer.more(20); // writes flow again, on the new primary
  } finally {
    await writer.stop();
  }
  assert.deepEqual(writer.refusals, [], 'no write refused');
  return writer.acks;
}

/** Every task in the log, by title: the ids stored under it. */
async function storedTasks(): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  let cursor: string | null = null;
  do {
    const res = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: graphql(
          `query FailoverTestTasks($a: String) { tasks(first: 500, after: $a) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }`,
        ),
        variables: { a: cursor } satisfies FailoverTestTasksQueryVariables,
      }),
    });
    const body = (await res.json()) as { data: FailoverTestTasksQuery };
    for (const { node } of body.data.tasks.edges)
      seen.set(node.title, [...(seen.get(node.title) ?? []), node.id]);
    cursor = body.data.tasks.pageInfo.hasNextPage ? body.data.tasks.pageInfo.endCursor : null;
  } while (cursor);
  return seen;
}

function assertStoredOnce(acks: Ack[], stored: Map<string, string[]>): void {
  for (const ack of acks) assert.deepEqual(stored.get(ack.title), [ack.id], `${ack.title} stored once`);
}

test('a switchover under load: no write refused, every acknowledged write stored once', {
  timeout: 180_000,
}, async () => {
  const acks = await underLoad('switchover', async () => {
    const from = await patroni.primary();
    const to = await patroni.switchover();
    assert.notEqual(to, from);
    await patroni.waitForPrimary(); // the old primary is back as the sync standby
  });
  assertStoredOnce(acks, await storedTasks());
});

test('the primary host killed and back as a standby, under load: no write refused, every acknowledged write stored once', {
  timeout: 240_000,
}, async () => {
  const acks = await underLoad('failover', async () => {
    const killed = await patroni.killPrimaryHost();
    await patroni.waitForPrimary({ not: killed, standbys: false });
    await patroni.startMember(killed); // resolves once it follows the new primary as its sync standby
  });
  const stored = await storedTasks();
  assertStoredOnce(acks, stored);
  // Nothing stored twice, from either test.
  assert.deepEqual(
    [...stored].filter(([, ids]) => ids.length > 1),
    [],
  );
});
