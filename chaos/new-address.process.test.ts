/**
 * A node that comes back on a new address, as a Kubernetes pod does, on real hosts (network
 * namespaces, chaos/test-network.ts): the three nodes know each other by name only (PEERS of
 * `<id>.ensemble.test`, which each host's hosts file resolves, as the headless Service's DNS
 * does), the leader is stopped, its host gets a new IP and every hosts file the new name, and
 * it is started again under the same NODE_ID and data directory. It must rejoin — the leader's
 * heartbeats reach it at the new address once the leader's short cache of the name runs out
 * (nodes/transport/peer-addresses.ts) — and lead again: a transferLeadership to it succeeds,
 * which needs the leader's TimeoutNow to reach it. The other two are never restarted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { TestNetwork, testNetworkUnavailable } from './test-network.js';

const TOKEN = 'new-address-token-0123456789';
const SECRET = 'new-address-secret-0123456789';
/** Node i's HTTP on PORT + i, its UDP on PORT + 10 + i (each in its own namespace). */
const PORT = 15_700;

const unavailable = await testNetworkUnavailable();
const network = new TestNetwork('ensdns', ['n1', 'n2', 'n3'], 234);
let postgres: TestPostgres | undefined;
let cluster: LocalCluster | undefined;
const dataRoot = mkdtempSync(join(tmpdir(), 'ensemble-new-address-'));
const records: LogRecord[] = [];
const exits: string[] = [];

before(async () => {
  if (unavailable) return;
  await network.create();
  postgres = await startTestPostgres({ alsoListenOn: network.hostAddress });
  const databaseUrl = (await postgres.createDatabase('new_address')).replace(
    '127.0.0.1:',
    `${network.hostAddress}:`,
  );
  cluster = new LocalCluster({
    size: 3,
    secret: SECRET,
    apiToken: TOKEN,
    dataRoot,
    databaseUrl,
    // Where a node binds and the test reaches it: its current address, read at each start.
    hostOf: (id) => network.address(id),
    peerHostOf: (id) => network.hostName(id),
    launcherOf: (id) => network.launcher(id),
    basePort: PORT + 1,
    baseUdpPort: PORT + 11,
    // Wide enough that a busy machine's late heartbeat starts no election of its own.
    electionTimeoutMs: '1000-2000',
    heartbeatIntervalMs: 100,
    onRecord: (r) => records.push(r),
    onExit: (id) => exits.push(id),
  });
});

after(async () => {
  await cluster?.stopAll();
  await postgres?.stop();
  await network.destroy();
  rmSync(dataRoot, { recursive: true, force: true });
});

const run = promisify(execFile);

/** What a name resolves to on a node's host (getent reads the same hosts file the node does). */
async function resolvedOn(id: string, name: string): Promise<string> {
  const [command, ...args] = network.launcher(id);
  const { stdout } = await run(command as string, [...args, 'getent', 'ahostsv4', name]);
  return stdout.split(/\s+/)[0] ?? '';
}

interface TransferAnswer {
  data?: { transferLeadership?: { term: number; leader: { id: string; url: string } } } | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function transferLeadership(url: string, to: string): Promise<TransferAnswer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      query: 'mutation ($to: ID) { transferLeadership(to: $to) { term leader { id url } } }',
      variables: { to },
    }),
  });
  return (await res.json()) as TransferAnswer;
}

test('peers by name: the leader, stopped and started again on a new address, rejoins and leads again; no other node restarted', {
  timeout: 180_000,
  skip: unavailable ?? false,
}, async () => {
  const c = cluster as LocalCluster;
  for (const id of c.ids)
    assert.doesNotMatch(c.env(id).PEERS ?? '', /\d+\.\d+\.\d+\.\d+/, 'PEERS names the nodes, no address');
  c.startAll();
  await c.waitForReady();
  const first = await c.waitForAgreement(30_000);
  const moved = first.leader;
  const others = c.ids.filter((id) => id !== moved);
  const pids = others.map((id) => c.pid(id));

  // A planned stop, as Kubernetes stops a pod: SIGTERM, and the leader hands over first.
  const next = c.waitForLeader(first.term, 30_000);
  assert.deepEqual(await c.kill(moved, 'SIGTERM'), { code: 0, signal: null }, `${moved} exited 0`);
  const { node: leader, term } = (await next) as LogRecord & { term: number };
  assert.notEqual(leader, moved);

  const oldAddress = network.address(moved);
  const newAddress = await network.readdress(moved);
  assert.notEqual(newAddress, oldAddress);
  for (const id of c.ids)
    assert.equal(await resolvedOn(id, network.hostName(moved)), newAddress, `${id} resolves ${moved} anew`);

  // It follows the leader only once the leader's heartbeats reach its new address: the leader
  // still sends to the old one until its cached look-up of the name expires
  // (DEFAULT_PEER_ADDRESS_TTL_MS, 2 s).
  const rejoined = c.waitFor(
    (r) => r.node === moved && r.leader === leader && r.term === term,
    30_000,
    `${moved} to follow ${leader} in term ${term}`,
  );
  c.start(moved);
  await rejoined;
  const health = await c.healthz(moved);
  assert.equal(health.url, `http://${newAddress}:${c.httpPort(moved)}`);
  assert.equal(health.role, 'follower');
  assert.equal(health.leader, leader);
  assert.ok(health.datagrams.received > 0, 'it hears the leader at its new address');

  // Leading again: the leader hands over to it — refused unless the leader heard from it within
  // an election timeout (its view of a healthy follower), done only once the leader's TimeoutNow
  // reached the new address.
  const followed = c.ids.map((id) =>
    c.waitFor(
      (r) => r.node === id && r.leader === moved && r.term === term + 1,
      30_000,
      `${id} to follow ${moved} in term ${term + 1}`,
    ),
  );
  const answer = await transferLeadership(c.url(leader), moved);
  assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
  assert.equal(answer.data?.transferLeadership?.leader.id, moved);
  assert.equal(answer.data?.transferLeadership?.term, term + 1);
  await Promise.all(followed);
  assert.ok(
    records.some((r) => r.node === moved && r.term === term + 1 && r.reason === 'leadership transfer'),
    `${moved} campaigned on the TimeoutNow`,
  );
  assert.equal((await c.healthz(moved)).writable, true, 'it holds the write fence');

  assert.deepEqual(
    others.map((id) => c.pid(id)),
    pids,
    'the other nodes run in the processes they started in',
  );
  assert.deepEqual(exits, [moved], 'no other node exited');
});

test('kill -9 of the leader on its host: the other hosts find nobody at its port and elect a new leader before any election timeout', {
  timeout: 60_000,
  skip: unavailable ?? false,
}, async () => {
  // Leader probes across hosts: the followers' probes cross the bridge to the dead node's host,
  // whose kernel answers "port unreachable" (nodes/transport/udp-transport.ts).
  const c = cluster as LocalCluster;
  const { leader, term } = await c.waitForAgreement(30_000);
  const next = c.waitForLeader(term, 30_000);
  const killedAt = Date.now();
  const killed = c.kill(leader, 'SIGKILL');
  const elected = (await next) as LogRecord & { term: number };
  const took = Date.now() - killedAt;
  await killed;
  assert.notEqual(elected.node, leader);
  // Its minimum election timeout is 1 s, counted from the last heartbeat (100 ms apart).
  assert.ok(took < 1_000 - 100, `a new leader ${took} ms after the kill`);
  const campaigns = records.filter(
    (r) => r.to === 'pre-candidate' && r.term === term && Date.parse(r.time as string) >= killedAt,
  );
  assert.ok(campaigns.length > 0);
  for (const r of campaigns) assert.equal(r.reason, 'leader unreachable', JSON.stringify(r));
  const refused = (await c.healthz(elected.node)).datagrams.refused ?? 0;
  assert.ok(refused > 0, `the new leader's /healthz counts ${refused} refused probes`);
});
