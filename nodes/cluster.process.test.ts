/**
 * Real node processes on loopback, talking real UDP: elections, crashes, restarts and hostile
 * datagrams. Every wait is on an event (a log line, a process exit), bounded by a timeout.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { DatagramEncoder } from './transport/datagram-codec.js';

const SECRET = 'process-test-secret-0123456789';
const clusters: LocalCluster[] = [];
let nextBase = 14_100;
let pg: TestPostgres;
const databases: string[] = [];

before(async () => {
  pg = await startTestPostgres();
  // One database per cluster, created up front so that cluster() can stay synchronous.
  for (let i = 0; i < 3; i++) databases.push(await pg.createDatabase('cluster'));
});

function cluster(size: number, records: LogRecord[] = []): LocalCluster {
  const base = nextBase;
  nextBase += 20;
  const c = new LocalCluster({
    size,
    secret: SECRET,
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-nodes-')),
    databaseUrl: databases.shift() as string,
    apiToken: 'process-test-api-token',
    basePort: base,
    baseUdpPort: base + 10,
    onRecord: (r) => records.push(r),
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
  });
  clusters.push(c);
  return c;
}

after(async () => {
  await Promise.all(clusters.map((c) => c.stopAll()));
  await pg.stop();
});

/** Wait until every running node follows one leader in one term, then check there is one leader. */
async function agreedLeader(c: LocalCluster): Promise<{ leader: string; term: number }> {
  const running = c.ids.filter((id) => c.isRunning(id));
  await c.waitForReady(running);
  const agreed = await c.waitForAgreement();
  const states = await Promise.all(running.map((id) => c.healthz(id)));
  const leaders = states.filter((s) => s.role === 'leader');
  assert.deepEqual(
    leaders.map((s) => [s.id, s.term]),
    [[agreed.leader, agreed.term]],
    'exactly one leader',
  );
  for (const s of states) assert.equal(s.leader, agreed.leader, `${s.id} follows the leader`);
  return agreed;
}

for (const size of [3, 5]) {
  test(`${size} nodes elect exactly one leader`, async () => {
    const c = cluster(size);
    // Generous: this includes cold starts (≈ 1.5 s of CPU per node), not just the election.
    const elected = c.waitForLeader(0, 60_000);
    c.startAll();
    await elected;
    await agreedLeader(c);
    await c.stopAll();
  });
}

describe('a 3-node cluster through crashes and hostile datagrams', () => {
  const records: LogRecord[] = [];
  let c: LocalCluster;
  let leader = '';
  let term = 0;
  let killed = '';

  test('elects a leader', async () => {
    c = cluster(3, records);
    const elected = c.waitForLeader(0, 60_000);
    c.startAll();
    await elected;
    ({ leader, term } = await agreedLeader(c));
  });

  test('kill -9 of the leader gives a new leader of a higher term', async () => {
    const next = c.waitForLeader(term);
    await c.kill(leader, 'SIGKILL');
    const r = await next;
    assert.notEqual(r.node, leader);
    assert.ok((r.term as number) > term);
    const old = leader;
    ({ leader, term } = await agreedLeader(c));
    // Keep the killed one down for the next test; restart it there.
    assert.equal(c.isRunning(old), false);
    killed = old;
  });

  test('the killed node restarts and rejoins as follower without disturbing the leader', async () => {
    const seen = records.length;
    const rejoined = c.waitFor(
      (r) => r.node === killed && r.leader === leader,
      60_000, // includes the node's cold start
      `${killed} to rejoin`,
    );
    c.start(killed);
    const r = await rejoined;
    assert.equal(r.term, term);
    await c.waitForReady([killed]);
    // A few more heartbeats' worth of time, observed through the rejoined node's own log: it
    // must still be following, and nobody's term may have moved.
    const h = await c.healthz(killed);
    assert.deepEqual([h.role, h.leader, h.term], ['follower', leader, term]);
    const later = records.slice(seen).filter((x) => typeof x.to === 'string' && x.node !== killed);
    assert.deepEqual(later, [], 'no transition on the nodes that stayed up');
    const leaderState = await c.healthz(leader);
    assert.deepEqual([leaderState.role, leaderState.term], ['leader', term]);
  });

  test('garbage, forged and replayed datagrams are dropped and counted; terms do not move', async () => {
    const target = c.ids.find((id) => id !== leader) as string;
    const before = await c.healthz(target);
    const socket = createSocket('udp4');
    const send = (buf: Buffer) =>
      new Promise<void>((resolve, reject) =>
        socket.send(buf, c.udpPort(target), '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    // Random bytes, a huge frame, and frames signed with the wrong secret claiming huge terms.
    await send(Buffer.from('not a datagram'));
    await send(Buffer.alloc(60_000, 7));
    const forger = new DatagramEncoder({
      secret: 'the-wrong-secret-0000000000',
      clusterId: 'ensemble',
      boot: Date.now(),
      now: Date.now,
    });
    const forged = { type: 'AppendEntries' as const, from: leader, to: target, term: 1_000_000 };
    await send(forger.encode(forged));
    await send(
      forger.encode({ type: 'RequestVote', from: leader, to: target, term: 999_999, preVote: false }),
    );
    // A correctly signed frame from a sender that is not in the cluster.
    const outsider = new DatagramEncoder({
      secret: SECRET,
      clusterId: 'ensemble',
      boot: Date.now(),
      now: Date.now,
    });
    const signed = outsider.encode({ type: 'AppendEntries', from: 'intruder', to: target, term: 1_000_000 });
    await send(signed);
    // A correctly signed frame, sent twice: the copy is a replay.
    const insider = new DatagramEncoder({
      secret: SECRET,
      clusterId: 'ensemble',
      boot: Date.now(),
      now: Date.now,
    });
    const real = insider.encode({
      type: 'AppendEntriesReply',
      from: leader,
      to: target,
      term,
      success: true,
    });
    await send(real);
    await send(real);
    socket.close();

    // Wait for the drops to be counted: poll the node's counters until they move (bounded).
    let after = before;
    for (let i = 0; i < 200 && after.datagrams.dropped.total < before.datagrams.dropped.total + 6; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = await c.healthz(target);
    }
    const d = after.datagrams.dropped;
    const b = before.datagrams.dropped;
    assert.ok((d.malformed ?? 0) > (b.malformed ?? 0), 'garbage counted as malformed');
    assert.ok((d.oversized ?? 0) > (b.oversized ?? 0), 'huge frame counted as oversized');
    assert.ok((d['bad-signature'] ?? 0) >= (b['bad-signature'] ?? 0) + 2, 'forgeries counted');
    assert.ok((d['unknown-sender'] ?? 0) > (b['unknown-sender'] ?? 0), 'outsider counted');
    assert.ok((d.replayed ?? 0) > (b.replayed ?? 0), 'replay counted');
    assert.deepEqual([after.term, after.leader], [term, leader]);
    const l = await c.healthz(leader);
    assert.deepEqual([l.role, l.term], ['leader', term]);
  });

  test('with 1 of 3 alive, the survivor never becomes leader (and PreVote keeps its term)', async () => {
    const survivor = c.ids.find((id) => id !== leader) as string;
    const others = c.ids.filter((id) => id !== survivor);
    // Both at once: killed one after the other, the second would live long enough to elect a
    // new leader with the survivor (leader probes find a killed leader in ≈ 50 ms).
    await Promise.all(others.map((id) => c.kill(id)));
    // Watch it campaign: five pre-vote rounds, each failing for lack of a quorum.
    for (let round = 0; round < 5; round++) {
      await c.waitFor((r) => r.node === survivor && r.to === 'pre-candidate', 10_000, 'a pre-vote round');
    }
    assert.equal(
      records.some(
        (r) =>
          r.node === survivor && (r.to === 'leader' || r.to === 'candidate') && (r.term as number) > term,
      ),
      false,
    );
    const h = await c.healthz(survivor);
    assert.deepEqual([h.role === 'leader', h.term], [false, term]);
  });
});
