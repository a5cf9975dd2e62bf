/**
 * Fuzzing a real cluster: three node processes on embedded PostgreSQL behind a gateway. A
 * million hostile datagrams spread over every node's UDP port must leave every node running, in
 * the same term under the same leader, having accepted none of them; then malformed GraphQL
 * requests and uploads, through the gateway and straight to the leader, must each get a clear
 * refusal and store nothing — and a normal write must still work afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LocalCluster, LogRecord } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import { DROP_REASONS } from '../nodes/transport/datagram-codec.js';
import { gatewayCluster, gatewayProcess, gatewayUrlOf, startGateway } from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { DATAGRAM_FAMILIES } from './datagram-fuzzer.js';
import { type ClusterFuzzResult, type FuzzNode, fuzzClusterDatagrams, getJson } from './fuzz-cluster.js';
import {
  GRAPHQL_FAMILIES,
  type GraphqlFuzzSummary,
  graphqlCases,
  multipartBody,
  runGraphqlFuzz,
} from './graphql-fuzzer.js';

const SECRET = 'fuzz-test-secret-0123456789';
const TOKEN = 'fuzz-test-token-0123456789';
const PORT = 15_100;
const GATEWAY = gatewayUrlOf(PORT);
/** Small, so the over-the-limit uploads are cheap to send. */
const MAX_UPLOAD_BYTES = 64 * 1024;
/** ≥ 10⁶ in all, spread over the three nodes (FUZZ_DATAGRAMS_PER_NODE to change it). */
const PER_NODE = Number(process.env.FUZZ_DATAGRAMS_PER_NODE ?? 333_334);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);

let pg: TestPostgres;
/** Once the first leader is known, every later transition is printed: none is expected. */
let leader = '';
let term = 0;
let c: LocalCluster;
let gateway: ServiceProcess;
const records: LogRecord[] = [];
const exits: string[] = [];
const gatewayLog: ServiceRecord[] = [];

async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  url = GATEWAY,
): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T };
}

async function headPosition(url = GATEWAY): Promise<number> {
  const r = await gql<{ headPosition: number }>('query { headPosition }', {}, url);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return (r.data as { headPosition: number }).headPosition;
}

before(async () => {
  pg = await startTestPostgres();
  // Nodes inherit the test's environment (LocalCluster), the gateway gets it explicitly.
  process.env.MAX_UPLOAD_BYTES = String(MAX_UPLOAD_BYTES);
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  gateway = gatewayProcess(stack, {
    env: {
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ensemble-fuzz-gateway-')),
      LOG_LEVEL: 'info',
    },
    onRecord: (r) => {
      gatewayLog.push(r);
      if (r.level >= 50) process.stderr.write(`[gateway] ${JSON.stringify(r)}\n`);
    },
    onExit: (code, signal) => exits.push(`gateway exited (${code ?? signal})`),
  });
  await startGateway(gateway);
  c = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-fuzz-')),
    databaseUrl: await pg.createDatabase('fuzz'),
    // What is under test is what the nodes make of hostile input, not how long they can be
    // starved of CPU (two cores, shared, a flood on top) before missing a heartbeat.
    electionTimeoutMs: '1000-2000',
    heartbeatIntervalMs: 100,
    onRecord: (r) => {
      records.push(r);
      if (typeof r.to === 'string' && leader !== '') process.stderr.write(`[${r.node}] ${r.msg}\n`);
      if (r.level >= 50) process.stderr.write(`[${r.node}] ${JSON.stringify(r)}\n`);
    },
    onExit: (node, code, signal) => exits.push(`${node} exited (${code ?? signal})`),
  });
});

after(async () => {
  await c?.stopAll();
  await gateway?.stop();
  await pg?.stop();
});

function fuzzNodes(): FuzzNode[] {
  return c.ids.map((id) => ({ id, host: c.host, udpPort: c.udpPort(id), url: c.url(id) }));
}

function describeFuzz(r: ClusterFuzzResult): string {
  const rows = r.nodes.map((n) => {
    const reasons = DROP_REASONS.filter((x) => n.dropped[x] > 0)
      .map((x) => `${x} ${n.dropped[x]}`)
      .join(', ');
    return `  ${n.node} (${n.before.role}): sent ${n.blast.sent}, counted ${n.dropped.total} (${reasons}), waits ${n.blast.waits}`;
  });
  return [
    `${r.sent} datagrams in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.sent / (r.ms / 1000))}/s); the nodes counted ${r.counted}, the kernel dropped ${r.kernelDrops ?? 'unknown'}`,
    ...rows,
  ].join('\n');
}

function describeGraphql(s: GraphqlFuzzSummary): string {
  return `${s.outcomes.length} cases; statuses ${JSON.stringify(s.byStatus)}; codes ${JSON.stringify(s.byCode)}`;
}

describe('fuzzing a 3-node cluster behind a gateway', { timeout: 300_000 }, () => {
  let head = 0;

  test('a leader is elected and announced', async () => {
    const announced = gateway.waitFor(
      (r) => r.msg === 'leader announced' || r.msg === 'leader found by health check',
      60_000,
      'a leader',
    );
    c.startAll();
    await c.waitForReady();
    ({ leader, term } = await c.waitForAgreement(30_000));
    await announced;
    head = await headPosition();
  });

  test(`${PER_NODE * 3} hostile datagrams: no crash, no term change, none accepted`, async () => {
    const seen = records.length;
    const result = await fuzzClusterDatagrams({
      nodes: fuzzNodes(),
      secret: SECRET,
      clusterId: 'ensemble',
      seed: SEED,
      perNode: PER_NODE,
    });
    process.stderr.write(`${describeFuzz(result)}\n`);
    assert.ok(result.sent >= 3 * PER_NODE);
    assert.equal(result.leader, leader);

    // Still running, same leader, same term.
    assert.deepEqual(exits, [], 'no process exited');
    for (const id of c.ids) assert.ok(c.isRunning(id), `${id} is running`);
    for (const n of result.nodes) {
      assert.deepEqual(
        [n.after.term, n.after.leader],
        [term, leader],
        `${n.node}: term and leader unchanged`,
      );
      assert.equal(n.after.role, n.node === leader ? 'leader' : 'follower', `${n.node}: role unchanged`);
    }
    const moved = records.slice(seen).filter((r) => typeof r.to === 'string' && r.term !== term);
    assert.deepEqual(moved, [], 'no node logged a transition into another term');

    for (const n of result.nodes) {
      // Every family was sent; the counts add up.
      for (const f of DATAGRAM_FAMILIES) assert.ok(n.blast.byFamily[f] > 0, `${n.node}: some ${f} sent`);
      assert.equal(n.blast.sendErrors, 0, `${n.node}: every send was accepted by the kernel`);
      // A node counts no more drops of a kind than it was sent of that kind: a drop for another
      // reason than the one the generator proved would show up as an excess here…
      for (const reason of DROP_REASONS) {
        assert.ok(
          n.dropped[reason] <= (n.blast.expected[reason] ?? 0),
          `${n.node}: ${n.dropped[reason]} ${reason} drops, but only ${n.blast.expected[reason] ?? 0} were sent`,
        );
      }
      // …and it counted most of what it was sent (the rest was lost in a full socket buffer).
      assert.ok(
        n.dropped.total >= 0.5 * n.blast.sent,
        `${n.node}: counted ${n.dropped.total} of ${n.blast.sent} datagrams`,
      );
    }
    // Every datagram was either counted by its node or dropped by the kernel (whose counter
    // covers every socket on the machine, so it can only be too high, never too low).
    if (result.kernelDrops !== null) {
      assert.ok(
        result.counted + result.kernelDrops >= result.sent,
        `counted ${result.counted} + kernel ${result.kernelDrops} < sent ${result.sent}`,
      );
    }
    // None was accepted: what the nodes took in while it ran is no more than what they sent
    // each other (a few in flight at either end of the window).
    const accepted = result.nodes.reduce((s, n) => s + n.accepted, 0);
    const sentByNodes = result.nodes.reduce((s, n) => s + n.sentByNode, 0);
    assert.ok(
      accepted <= sentByNodes + 30,
      `the nodes accepted ${accepted} but sent each other ${sentByNodes}`,
    );

    // The gateway's metric shows the nodes' drop counts by reason (it reads them from /healthz).
    const metric = (text: string, node: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`ensemble_node_datagrams_dropped{node="${node}",reason=`))
        .map((l) => Number(l.split(' ').at(-1)))
        .reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 15_000;
    let text = '';
    for (;;) {
      text = await (await fetch(`${GATEWAY}/metrics`)).text();
      if (result.nodes.every((n) => metric(text, n.node) >= n.after.datagrams.dropped.total)) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const n of result.nodes) {
      assert.ok(metric(text, n.node) >= n.after.datagrams.dropped.total, `gateway metric for ${n.node}`);
    }
  });

  for (const where of ['gateway', 'leader'] as const) {
    test(`malformed GraphQL requests and uploads to the ${where}: clear errors, nothing stored`, async () => {
      const base = where === 'gateway' ? GATEWAY : c.url(leader);
      const cases = graphqlCases({
        seed: SEED + (where === 'gateway' ? 1 : 2),
        apiToken: TOKEN,
        maxUploadBytes: MAX_UPLOAD_BYTES,
        extra: 150,
      });
      const summary = await runGraphqlFuzz(base, cases, (o) => {
        if (o.ms > 300)
          process.stderr.write(`  slow: ${o.case.family} / ${o.case.name}: ${Math.round(o.ms)} ms\n`);
      });
      process.stderr.write(`${where}: ${describeGraphql(summary)}\n`);
      assert.deepEqual(
        summary.problems.map((o) => `${o.case.family} / ${o.case.name}: ${o.problem} (HTTP ${o.status})`),
        [],
      );
      for (const f of GRAPHQL_FAMILIES) assert.ok(summary.byFamily[f] > 0, `some ${f} cases`);
      assert.equal(await headPosition(), head, 'nothing was stored');
      assert.deepEqual(exits, [], 'no process exited');
      assert.equal((await getJson<{ term: number }>(`${c.url(leader)}/healthz`)).term, term);
    });
  }

  test('afterwards a normal write and a valid upload still work', async () => {
    const created = await gql<{ createTask: { title: string; version: number } }>(
      'mutation ($t: String!) { createTask(input: { title: $t }) { title version } }',
      { t: 'after the fuzz' },
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    assert.deepEqual(created.data?.createTask, { title: 'after the fuzz', version: 1 });
    assert.equal(await headPosition(), head + 1);

    // The upload path the fuzz hit stores a good file: its refusals were the file's, not the path's.
    const boundary = '----fuzz-valid-upload';
    const listing = {
      title: 'Lamp',
      url: 'https://shop.example/after-the-fuzz',
      price: 390,
      currency: 'MDL',
      priceEur: 20,
      scrapedAt: '2026-11-24T10:00:00Z',
    };
    const res = await fetch(`${GATEWAY}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'apollo-require-preflight': 'true',
        authorization: `Bearer ${TOKEN}`,
      },
      body: multipartBody(
        [
          {
            name: 'operations',
            data: JSON.stringify({
              query: 'mutation ($f: Upload!) { uploadFile(file: $f) { name importedListings } }',
              variables: { f: null },
            }),
          },
          { name: 'map', data: JSON.stringify({ 0: ['variables.f'] }) },
          {
            name: '0',
            filename: 'good.json',
            contentType: 'application/json',
            data: JSON.stringify([listing]),
          },
        ],
        boundary,
      ),
    });
    const uploaded = (await res.json()) as { data?: { uploadFile: unknown }; errors?: unknown };
    assert.equal(uploaded.errors, undefined, JSON.stringify(uploaded.errors));
    assert.deepEqual(uploaded.data?.uploadFile, { name: 'good.json', importedListings: 1 });
    assert.ok((await headPosition()) > head + 1);
  });
});
