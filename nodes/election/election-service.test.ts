/**
 * The runtime around the pure election: real timers (node:test's mocked ones), an in-memory
 * network with 1 ms latency. It must elect, keep a leader through heartbeats, wake only near its
 * deadlines (not every tick) and never replay a long stall as a burst of timeouts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import pino from 'pino';
import { ElectionService, type TimedElectionEvent } from './election-service.js';
import type { ElectionMessage, NodeId } from './messages.js';
import type { HardState } from './raft-election.js';

const IDS: NodeId[] = ['n1', 'n2', 'n3'];

/** Mocked time, a millisecond at a time (a single long tick does not fire timers set during it). */
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

/**
 * Three services on an in-memory network with 1 ms latency. With `probes`, their transport can
 * tell a node that is down (its process gone: the probe is refused a millisecond later) from
 * one that is `cut` off (the probe is lost).
 */
function cluster(options: { probes?: boolean } = {}) {
  const handlers = new Map<NodeId, (m: ElectionMessage) => void>();
  const refusals = new Map<NodeId, (peer: NodeId) => void>();
  const cut = new Set<NodeId>();
  const down = new Set<NodeId>();
  const clockReads = new Map<NodeId, number>();
  const events: Array<TimedElectionEvent & { node: NodeId }> = [];
  const services = new Map<NodeId, ElectionService>();
  /** Every save and send, in the order they happened (all nodes). */
  const journal: string[] = [];
  for (const id of IDS) {
    let hard: HardState = { term: 0, votedFor: null };
    clockReads.set(id, 0);
    const service = new ElectionService({
      id,
      voters: IDS,
      electionTimeoutMs: { min: 150, max: 300 },
      heartbeatIntervalMs: 50,
      leaderProbe: options.probes === true,
      transport: {
        send: (m) => {
          journal.push(`${id} sends ${described(m)}`);
          if (down.has(id) || down.has(m.to) || cut.has(id) || cut.has(m.to)) return;
          setTimeout(() => {
            if (!down.has(m.to)) handlers.get(m.to)?.(m);
          }, 1);
        },
        onMessage: (h) => handlers.set(id, h),
        ...(options.probes
          ? {
              probe: (m: ElectionMessage) => {
                journal.push(`${id} probes ${m.to}`);
                if (down.has(m.to) && !cut.has(m.to)) setTimeout(() => refusals.get(id)?.(m.to), 1);
              },
              onUnreachable: (h: (peer: NodeId) => void) => refusals.set(id, h),
            }
          : {}),
      },
      store: {
        load: () => hard,
        save: (s) => {
          journal.push(`${id} stores term ${s.term}, vote ${s.votedFor}`);
          hard = s;
        },
      },
      logger: pino({ level: 'silent' }),
      onFatal: (e) => assert.fail(e),
      now: () => {
        clockReads.set(id, (clockReads.get(id) ?? 0) + 1);
        return Date.now();
      },
    });
    service.subscribe((e) => events.push({ ...e, node: id }));
    services.set(id, service);
  }
  const leaders = () => IDS.filter((id) => !down.has(id) && services.get(id)?.status().role === 'leader');
  return { services, down, cut, clockReads, events, leaders, journal };
}

function described(m: ElectionMessage): string {
  if (m.type === 'RequestVote') return `${m.preVote ? 'PreVote' : 'RequestVote'} ${m.term} to ${m.to}`;
  if (m.type === 'RequestVoteReply') {
    return `${m.preVote ? 'PreVote' : 'RequestVote'}Reply ${m.term} ${m.granted ? 'granted' : 'refused'} to ${m.to}`;
  }
  return `${m.type} ${m.term} to ${m.to}`;
}

/** Advances time until a node other than `old` leads (at most 1 s); returns how long it took. */
function msToNewLeader(c: ReturnType<typeof cluster>, old: NodeId): number {
  for (let ms = 1; ms <= 1_000; ms++) {
    advance(1);
    if (c.leaders().some((id) => id !== old)) return ms;
  }
  return assert.fail('no new leader within 1 s');
}

/** A started cluster once it has a leader (`old`, its service `leader`) and a follower `target`. */
function electedCluster() {
  const c = cluster();
  for (const s of c.services.values()) s.start();
  advance(1_000);
  const [old] = c.leaders();
  assert.ok(old);
  const target = IDS.find((id) => id !== old) as NodeId;
  return { c, old, target, leader: c.services.get(old) as ElectionService };
}

describe('ElectionService', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('elects one leader and keeps it while heartbeats flow', () => {
    const c = cluster();
    for (const s of c.services.values()) s.start();
    advance(1_000);
    const [leader, ...others] = c.leaders();
    assert.ok(leader, 'a leader within 1 s');
    assert.deepEqual(others, []);
    const term = c.services.get(leader)?.status().term;
    advance(5_000);
    assert.deepEqual(c.leaders(), [leader]);
    assert.equal(c.services.get(leader)?.status().term, term, 'no election while the leader is heard');
    for (const s of c.services.values()) s.stop();
  });

  it('wakes near its deadlines, not on every 1 ms tick', () => {
    const c = cluster();
    for (const s of c.services.values()) s.start();
    advance(1_000);
    const before = new Map(c.clockReads);
    advance(10_000);
    for (const id of IDS) {
      const reads = (c.clockReads.get(id) ?? 0) - (before.get(id) ?? 0);
      // A heartbeat every 50 ms: 200 rounds in 10 s, each a wake-up or a message on a follower
      // and a wake-up and two replies on the leader, three clock reads each (≈ 1,800 at most).
      // Waking on every 1 ms tick would read it at least 10,000 times.
      assert.ok(reads < 3_000, `${id} read the clock ${reads} times in 10 s`);
    }
    for (const s of c.services.values()) s.stop();
  });

  for (const probes of [true, false]) {
    it(`a leader whose process is gone is replaced ${probes ? 'before any election timeout, its probes refused' : 'only after an election timeout, without probes'}`, () => {
      const c = cluster({ probes });
      for (const s of c.services.values()) s.start();
      advance(1_000);
      const [old] = c.leaders();
      assert.ok(old);
      c.down.add(old);
      c.services.get(old)?.stop();
      const took = msToNewLeader(c, old);
      // The last heartbeat came at most 50 ms before the kill; a probe goes 17 ms after a missed
      // one, and the minimum election timeout is 150 ms.
      if (probes) assert.ok(took < 50 + 17 + 10, `new leader ${took} ms after the kill`);
      else assert.ok(took >= 150 - 50, `new leader ${took} ms after the kill`);
      const reasons = c.events.filter((e) => e.kind === 'transition' && e.to === 'pre-candidate');
      assert.equal(
        reasons.some((e) => e.kind === 'transition' && e.reason === 'leader unreachable'),
        probes,
      );
      for (const s of c.services.values()) s.stop();
    });
  }

  it('a leader cut off by the network (its probes lost, not refused) is replaced after an election timeout', () => {
    const c = cluster({ probes: true });
    for (const s of c.services.values()) s.start();
    advance(1_000);
    const [old] = c.leaders();
    assert.ok(old);
    c.cut.add(old);
    const took = msToNewLeader(c, old);
    assert.ok(took >= 150 - 50, `new leader ${took} ms after the cut`);
    assert.ok(
      c.journal.some((l) => l.endsWith(`probes ${old}`)),
      'its followers probed it',
    );
    for (const s of c.services.values()) s.stop();
  });

  it('replays a long stall as one timeout at most, not a burst', () => {
    const c = cluster();
    const lone = c.services.get('n1');
    assert.ok(lone);
    // n1 alone (its peers never answer): each timeout starts one pre-vote.
    c.down.add('n2');
    c.down.add('n3');
    lone.start();
    // The clock jumps 10 s ahead without a timer firing (a paused process), then timers run.
    mock.timers.setTime(Date.now() + 10_000);
    mock.timers.tick(1);
    const preVotes = c.events.filter((e) => e.kind === 'transition' && e.to === 'pre-candidate');
    assert.equal(preVotes.length, 1, '10 s of missed ticks fired one timeout');
    lone.stop();
  });

  it('a candidate asks for votes before it stores its term and vote; a voter answers only once its vote is stored', () => {
    const c = cluster();
    for (const s of c.services.values()) s.start();
    advance(1_000);
    const [leader] = c.leaders();
    assert.ok(leader);
    const term = c.services.get(leader)?.status().term as number;
    const at = (line: string) => {
      const i = c.journal.indexOf(line);
      assert.ok(i >= 0, `${line} — not in:\n${c.journal.join('\n')}`);
      return i;
    };
    const voter = IDS.find(
      (id) =>
        id !== leader && c.journal.includes(`${id} sends RequestVoteReply ${term} granted to ${leader}`),
    );
    assert.ok(voter, 'a vote granted to the winner');
    // Raft thesis §3.8: a server persists its term and vote before it answers. A request promises
    // nothing, so it goes first and the candidate's fsync overlaps the voters' work (etcd's raft
    // sends MsgVote at once, MsgVoteResp only after its storage write).
    assert.ok(
      at(`${leader} sends RequestVote ${term} to ${voter}`) <
        at(`${leader} stores term ${term}, vote ${leader}`),
    );
    assert.ok(
      at(`${voter} stores term ${term}, vote ${leader}`) <
        at(`${voter} sends RequestVoteReply ${term} granted to ${leader}`),
    );
    for (const s of c.services.values()) s.stop();
  });

  it('a candidate that cannot store its term and vote has asked for votes, but never counts them', () => {
    const sent: ElectionMessage[] = [];
    const fatal: Error[] = [];
    let deliver: (m: ElectionMessage) => void = () => {};
    const service = new ElectionService({
      id: 'n1',
      voters: IDS,
      electionTimeoutMs: { min: 150, max: 300 },
      heartbeatIntervalMs: 50,
      transport: { send: (m) => sent.push(m), onMessage: (h) => (deliver = h) },
      store: {
        load: () => ({ term: 0, votedFor: null }),
        save: () => {
          throw new Error('disk full');
        },
      },
      logger: pino({ level: 'silent' }),
      onFatal: (e) => fatal.push(e),
      now: () => Date.now(),
    });
    service.start();
    advance(301);
    const preVote = sent.find((m) => m.type === 'RequestVote' && m.preVote);
    assert.ok(preVote, 'a pre-vote after the election timeout (it stores nothing)');
    deliver({
      type: 'RequestVoteReply',
      from: 'n2',
      to: 'n1',
      term: preVote.term,
      preVote: true,
      granted: true,
    });
    const requests = () => sent.filter((m) => m.type === 'RequestVote' && !m.preVote);
    const [request] = requests();
    assert.ok(request, 'the vote requests went out before the save');
    assert.deepEqual(
      requests()
        .map((m) => m.to)
        .sort(),
      ['n2', 'n3'],
    );
    assert.deepEqual(
      fatal.map((e) => e.message),
      ['disk full'],
    );
    // n2's vote would make a majority with n1's own — which was never stored.
    deliver({
      type: 'RequestVoteReply',
      from: 'n2',
      to: 'n1',
      term: request.term,
      preVote: false,
      granted: true,
    });
    assert.notEqual(service.status().role, 'leader');
    advance(1_000);
    assert.equal(requests().length, 2, 'stopped: no second campaign');
    service.stop();
  });

  it('transferLeadership resolves once the named follower leads, well within an election timeout', async () => {
    const { c, target, leader } = electedCluster();
    const outcome = leader.transferLeadership(target);
    assert.equal(leader.status().acceptingWrites, false, 'no new writes while it runs');
    advance(20);
    const term = c.services.get(target)?.status().term;
    assert.deepEqual(await outcome, { kind: 'completed', leader: target, term, target });
    assert.deepEqual(c.leaders(), [target]);
    for (const s of c.services.values()) s.stop();
  });

  it('transferLeadership to a follower that is down ends aborted, and the leader takes writes again', async () => {
    const { c, old, target, leader } = electedCluster();
    c.down.add(target);
    const outcome = leader.transferLeadership(target);
    advance(300);
    assert.deepEqual(await outcome, { kind: 'aborted', target });
    assert.deepEqual(c.leaders(), [old]);
    assert.equal(leader.status().acceptingWrites, true);
    for (const s of c.services.values()) s.stop();
  });

  it('transferLeadership on a follower is refused naming the leader; stopping ends a running one', async () => {
    const { c, old, target: follower, leader } = electedCluster();
    assert.deepEqual(await c.services.get(follower)?.transferLeadership(), {
      kind: 'refused',
      reason: 'not leader',
      leader: old,
    });
    c.down.add(follower);
    const outcome = leader.transferLeadership(follower);
    leader.stop();
    assert.deepEqual(await outcome, { kind: 'unresolved', target: follower });
    for (const s of c.services.values()) s.stop();
  });
});
