/**
 * The gateway learns of a new leader from the node's own transition on its standing clusterEvents
 * feed, without waiting for the node's fence claim and announcement. Here the nodes announce to
 * nobody and the gateway's health checks are too rare to help, so only the transitions can tell
 * it: a write goes through at start and again after the leader is killed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import { gatewayCluster, gatewayProcess, gatewayUrlOf, startGateway } from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const TOKEN = 'transition-test-token-0123456789';
const PORT = 14_650;
/** A second gateway, started once the cluster has elected its leader. */
const LATE_PORT = PORT + 40;
const stack = { basePort: PORT, secret: 'transition-test-secret-0123456789', apiToken: TOKEN };

let pg: TestPostgres;
let cluster: LocalCluster;
let gateway: ServiceProcess;
const gatewayLog: ServiceRecord[] = [];

before(async () => {
  pg = await startTestPostgres();
  gateway = gatewayProcess(stack, {
    env: { HEALTH_INTERVAL_MS: '60000', LEADER_WAIT_MS: '5000' },
    onRecord: (r) => gatewayLog.push(r),
  });
  await startGateway(gateway);
  cluster = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-transition-')),
    databaseUrl: await pg.createDatabase(),
    gatewayUrl: undefined, // the nodes announce to nobody
  });
  cluster.startAll();
  await cluster.waitForReady();
});

after(async () => {
  await gateway?.stop();
  await cluster?.stopAll();
  await pg?.stop();
});

async function createTask(title: string): Promise<unknown> {
  const res = await fetch(`${gatewayUrlOf(PORT)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      query: 'mutation ($t: String!) { createTask(input: { title: $t }) { title } }',
      variables: { t: title },
    }),
  });
  return res.json();
}

test('writes follow the leaders the gateway learns from their transitions', { timeout: 90_000 }, async () => {
  const { leader, term } = await cluster.waitForAgreement(30_000);
  // The gateway may have learnt of the winner before every node followed it: `past`.
  await gateway.waitFor(
    (r) => r.msg === 'leader learnt from its transition' && r.leader === leader && r.term === term,
    20_000,
    `the gateway to learn of ${leader} from its transition`,
    { past: true },
  );
  assert.deepEqual(await createTask('first'), { data: { createTask: { title: 'first' } } });

  const next = gateway.waitFor(
    (r) => r.msg === 'leader learnt from its transition' && Number(r.term) > term,
    20_000,
    'the gateway to learn of the next leader from its transition',
  );
  await cluster.kill(leader);
  // Sent at once: the gateway holds it until it knows the next leader, which holds it until its claim.
  assert.deepEqual(await createTask('after the kill'), { data: { createTask: { title: 'after the kill' } } });
  await next;
  assert.deepEqual(
    gatewayLog.filter((r) => r.msg === 'leader announced' || r.msg === 'leader found by health check'),
    [],
  );
});

test("a gateway started after the election has the winner's transition in clusterEvents (the page shows it)", {
  timeout: 60_000,
}, async () => {
  const { leader, term } = await cluster.waitForAgreement(30_000);
  const late = gatewayProcess(stack, {
    env: { GATEWAY_URL: gatewayUrlOf(LATE_PORT), HEALTH_INTERVAL_MS: '60000' },
  });
  const client = createClient({
    url: `${gatewayUrlOf(LATE_PORT).replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  try {
    await startGateway(late);
    // The page's subscription: every transition the gateway kept, then the live ones.
    const won = await new Promise<{ nodeId: string; term: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no transition of ${leader} to LEADER in term ${term}`)),
        20_000,
      );
      const stop = client.subscribe<{ clusterEvents: { nodeId: string; term: number; to: string } }>(
        { query: 'subscription { clusterEvents(since: "1970-01-01T00:00:00Z") { nodeId term to } }' },
        {
          next: ({ data }) => {
            const e = data?.clusterEvents;
            if (e?.nodeId === leader && e.term === term && e.to === 'LEADER') {
              clearTimeout(timer);
              stop();
              resolve(e);
            }
          },
          error: (error) => {
            clearTimeout(timer);
            reject(error);
          },
          complete: () => {},
        },
      );
    });
    assert.deepEqual(won, { nodeId: leader, term, to: 'LEADER' });
  } finally {
    await client.dispose();
    await late.stop();
  }
});
