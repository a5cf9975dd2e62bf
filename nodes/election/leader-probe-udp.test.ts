/**
 * Leader probes end to end: three election services on real UDP sockets on loopback. When the
 * leader's socket closes (its process gone), the kernel refuses the survivors' probes, and they
 * elect a new leader long before their election timeout (here 1–1.5 s) could fire.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { freePortRange } from '../../test-support/free-port-range.js';
import { UdpTransport } from '../transport/udp-transport.js';
import { ElectionService, type TimedElectionEvent } from './election-service.js';
import type { NodeId } from './messages.js';
import type { HardState } from './raft-election.js';

const IDS: NodeId[] = ['n1', 'n2', 'n3'];
const TIMEOUT = { min: 1_000, max: 1_500 };

const nodes: { id: NodeId; transport: UdpTransport; service: ElectionService }[] = [];
const events: (TimedElectionEvent & { node: NodeId })[] = [];
const waiters = new Set<() => void>();
after(async () => {
  for (const n of nodes) n.service.stop();
  await Promise.all(nodes.map((n) => n.transport.close()));
});

/** Resolves once `done()` holds, checked after every election event. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
    check();
  });
}

const leaderOf = (exclude: NodeId | null) =>
  nodes.find((n) => n.id !== exclude && n.service.status().role === 'leader')?.id ?? null;

test('a leader whose socket closed is replaced before any election timeout: its probes are refused', {
  timeout: 20_000,
}, async () => {
  const base = await freePortRange(IDS.length);
  const ports = IDS.map((_, i) => base + i);
  for (const [i, id] of IDS.entries()) {
    const transport = await UdpTransport.open({
      self: id,
      bindHost: '127.0.0.1',
      port: ports[i] as number,
      peers: IDS.map((p, j) => ({ id: p, host: '127.0.0.1', port: ports[j] as number })),
      secret: 'probe test secret',
      clusterId: 'probe-test',
    });
    let hard: HardState = { term: 0, votedFor: null };
    const service = new ElectionService({
      id,
      voters: IDS,
      electionTimeoutMs: TIMEOUT,
      heartbeatIntervalMs: 50,
      leaderProbe: true,
      transport,
      store: { load: () => hard, save: (s) => (hard = s) },
      logger: pino({ level: 'silent' }),
      onFatal: (e) => assert.fail(e),
    });
    service.subscribe((e) => {
      events.push({ ...e, node: id });
      for (const w of [...waiters]) w();
    });
    nodes.push({ id, transport, service });
  }
  for (const n of nodes) n.service.start();
  await until(() => leaderOf(null) !== null);
  const old = leaderOf(null) as NodeId;
  const dead = nodes.find((n) => n.id === old);
  assert.ok(dead);

  dead.service.stop();
  await dead.transport.close();
  const closedAt = Date.now();
  await until(() => leaderOf(old) !== null);
  const took = Date.now() - closedAt;

  assert.ok(took < TIMEOUT.min, `new leader ${took} ms after the old one's socket closed`);
  const campaigns = events.filter(
    (e) => e.kind === 'transition' && e.to === 'pre-candidate' && e.at.getTime() >= closedAt,
  );
  assert.ok(campaigns.length > 0);
  for (const e of campaigns) assert.equal(e.kind === 'transition' && e.reason, 'leader unreachable');
  const survivors = nodes.filter((n) => n.id !== old);
  assert.ok(
    survivors.some((n) => n.transport.refused > 0),
    'the kernel refused a probe',
  );
});
