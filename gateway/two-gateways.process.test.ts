/**
 * Two gateways in front of one cluster, as the Kubernetes Deployment runs them: the nodes
 * announce to one of them only (a Service hands each announcement to one replica), and the
 * other learns the leader from the nodes' /healthz. Both answer /livez at once and /readyz once
 * they know a leader; writes through either reach the leader, before and after a failover.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LIVEZ_PATH, READYZ_PATH } from '../common/probes.js';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess } from '../launcher/service-process.js';
import { graphql } from '../schema/generated/index.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayProcess,
  gatewayUrlOf,
  graphqlData,
  startGateway,
} from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const TOKEN = 'two-gateways-token-0123456789';
const SECRET = 'two-gateways-secret-0123456789';
const PORT = 15_600;
/** The one the nodes announce to, and the one that only polls. */
const ANNOUNCED = gatewayUrlOf(PORT);
const POLLING = gatewayUrlOf(PORT + 50);

// The gateway suite's mutation (a document codegen already knows).
const CREATE_TASK = graphql(
  `mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }`,
);

let pg: TestPostgres;
let c: LocalCluster;
const gateways: ServiceProcess[] = [];

const statusOf = async (url: string) => (await fetch(url)).status;

before(async () => {
  pg = await startTestPostgres();
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  for (const url of [ANNOUNCED, POLLING]) {
    const gateway = gatewayProcess(stack, { env: { GATEWAY_URL: url, LOG_LEVEL: 'info' }, onText: () => {} });
    gateways.push(gateway);
    await startGateway(gateway);
  }
  c = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-two-gateways-')),
    databaseUrl: await pg.createDatabase('two_gateways'),
  });
});

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  await c?.stopAll();
  await pg?.stop();
});

test('both gateways learn the leader, serve writes, and follow a failover', {
  timeout: 180_000,
}, async () => {
  for (const url of [ANNOUNCED, POLLING]) {
    assert.equal(await statusOf(`${url}${LIVEZ_PATH}`), 200, `${url}: alive before any node`);
    assert.equal(await statusOf(`${url}${READYZ_PATH}`), 503, `${url}: not ready without a leader`);
  }
  c.startAll();
  await c.waitForReady();
  const { leader } = await c.waitForAgreement(30_000);
  const [a, b] = await Promise.all([gatewayLeader(ANNOUNCED), gatewayLeader(POLLING)]);
  assert.equal(a.id, leader);
  assert.deepEqual(b, a, 'the gateway no node announces to learns the same leader');
  for (const url of [ANNOUNCED, POLLING]) {
    assert.equal(await statusOf(`${url}${READYZ_PATH}`), 200, `${url}: ready once it knows the leader`);
  }
  assert.equal(await statusOf(`${c.url(leader)}${READYZ_PATH}`), 200, 'the leader node is ready');

  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const url of [ANNOUNCED, POLLING]) {
    const { createTask } = await graphqlData(url, CREATE_TASK, { t: `before via ${url}` }, auth);
    assert.equal(createTask.title, `before via ${url}`);
  }

  await c.kill(leader);
  const [a2, b2] = await Promise.all([gatewayLeader(ANNOUNCED, a.term), gatewayLeader(POLLING, a.term)]);
  assert.notEqual(a2.id, leader);
  assert.equal(b2.id, a2.id, 'both follow the new leader');
  for (const url of [ANNOUNCED, POLLING]) {
    const { createTask } = await graphqlData(url, CREATE_TASK, { t: `after via ${url}` }, auth);
    assert.equal(createTask.title, `after via ${url}`);
  }
});
