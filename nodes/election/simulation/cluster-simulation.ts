/**
 * A deterministic simulation of a whole cluster: N election state machines on a simulated
 * network, in virtual time, with faults chosen by a seeded PRNG. Chaotic phases (loss,
 * duplication, delay and reordering, full, partial and one-way partitions, crashes and restarts
 * from durable state) alternate with calm ones. Leadership transfers are requested at random
 * moments of the chaos, and as a drill at the end of most calm phases, where the target is now
 * and then crashed or cut off at once. A node sends its requests before it stores its term and
 * vote, as the real adapter does, and in chaos now and then crashes between the two. Most runs
 * probe late leaders: a probe to a crashed node is refused (unless a cut link or loss eats it),
 * and in chaos a live node's refusal now and then arrives all the same (a stale one, of an
 * earlier incarnation); calm phases then and there crash their stable leader. Safety
 * invariants are checked after every step; liveness at the end of every calm phase and after
 * every drill.
 */
import { isReply, type NodeId } from '../messages.js';
import { type ElectionConfig, type HardState, type Output, RaftElection } from '../raft-election.js';
import { InvariantChecker } from './invariants.js';
import { Prng } from './prng.js';
import { CALM, type NetworkFaults, SimulatedNetwork } from './simulated-network.js';
import { type TransferCounts, TransferTracker } from './transfer-tracker.js';

/** One tick stands for 5 ms: these are the defaults, 150-300 ms and 50 ms, in ticks. */
export const TIMING = { electionTimeoutMin: 30, electionTimeoutMax: 60, heartbeatInterval: 10 } as const;

/**
 * The liveness bound: once a majority is up and connected and the network is calm, a leader
 * that a majority follows exists within this many ticks (10 maximal election timeouts).
 */
export const LIVENESS_BOUND_TICKS = 10 * TIMING.electionTimeoutMax;

export interface SimulationOptions {
  readonly seed: number;
  /** Virtual duration of the run. */
  readonly ticks?: number;
  /** Receives every trace line as it happens (for replaying a seed verbosely). */
  readonly onTrace?: (line: string) => void;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly leaderProbe: boolean;
  readonly violations: readonly string[];
  /** Terms in which some node became leader. */
  readonly leaderTerms: number;
  readonly crashes: number;
  /** Of those, crashes after sending vote requests and before storing the term and vote they ask in. */
  readonly crashesBeforeSave: number;
  readonly partitions: number;
  readonly messages: { readonly sent: number; readonly delivered: number; readonly dropped: number };
  /** The longest time, in ticks, from the start of a calm phase to a stable leader. */
  readonly slowestRecovery: number;
  readonly transfers: TransferCounts;
  /** Calm drills: transfers to a live target, and how many of them made it leader. */
  readonly drills: { readonly live: number; readonly handedOver: number; readonly dead: number };
  /** The most ticks without a stable leader during a calm drill, to a live and to a dead target. */
  readonly drillGap: { readonly live: number; readonly dead: number };
  /** Probes refused and stepped as `peerUnreachable`; of those, refusals from a live node. */
  readonly refusals: { readonly stepped: number; readonly spurious: number };
  /** For each calm crash of the stable leader, the ticks until the next stable leader. */
  readonly leaderCrashes: readonly number[];
  /** The last trace lines, for the report of a failing seed. */
  readonly traceTail: readonly string[];
}

const TRACE_TAIL = 200;

export function runSimulation(options: SimulationOptions): SimulationResult {
  const rng = new Prng(options.seed);
  const totalTicks = options.ticks ?? 4000;
  const size = rng.pick([3, 3, 4, 5, 5, 7]);
  const ids: NodeId[] = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const quorum = Math.floor(size / 2) + 1;
  const preVote = rng.chance(0.8);
  const checkQuorum = rng.chance(0.8);
  const leaderProbe = preVote && rng.chance(0.8);
  const config = (id: NodeId): ElectionConfig => ({
    id,
    voters: ids,
    ...TIMING,
    preVote,
    checkQuorum,
    leaderProbe,
    randomInt: (min, max) => rng.int(min, max),
  });

  const network = new SimulatedNetwork(rng);
  const checker = new InvariantChecker();
  const durable = new Map<NodeId, HardState>();
  const live = new Map<NodeId, RaftElection>();
  const tail: string[] = [];
  let now = 0;
  let crashes = 0;
  let crashesBeforeSave = 0;
  /** While chaos runs, a node may crash between its requests and its save. */
  let chaotic = false;
  let partitions = 0;
  let slowestRecovery = 0;
  const transfers = new TransferTracker(TIMING.electionTimeoutMin, (v) => checker.fail(v));
  const drills = { live: 0, handedOver: 0, dead: 0 };
  const drillGap = { live: 0, dead: 0 };
  /** Refusals on their way back to the prober, due at a tick. */
  let refusalsDue: { readonly at: number; readonly to: NodeId; readonly peer: NodeId }[] = [];
  const refusals = { stepped: 0, spurious: 0 };
  const leaderCrashes: number[] = [];

  const trace = (line: string): void => {
    const stamped = `t=${now} ${line}`;
    options.onTrace?.(stamped);
    tail.push(stamped);
    if (tail.length > TRACE_TAIL) tail.shift();
  };

  const apply = (id: NodeId, node: RaftElection, out: Output): void => {
    // As the real adapter does (ElectionService): requests leave before the term and vote are
    // stored, replies only after them.
    if (out.hardState) {
      const requests = out.messages.filter((m) => !isReply(m));
      for (const m of requests) network.send(now, m);
      if (chaotic && requests.length > 0 && rng.chance(0.05)) {
        crashesBeforeSave++;
        trace(`${id} asked for votes in term ${out.hardState.term} and crashes before storing it`);
        crash(id);
        return;
      }
      durable.set(id, out.hardState);
    }
    for (const e of out.events) {
      if (e.kind === 'transition') trace(`${id} ${e.from}→${e.to} term=${e.term} (${e.reason})`);
      else if (e.kind === 'vote') {
        trace(
          `${id} ${e.granted ? 'grants' : 'refuses'} ${e.preVote ? 'pre-vote' : 'vote'} to ${e.candidate}@${e.term}: ${e.reason}`,
        );
      } else if (e.kind === 'transfer') trace(`${id} transfer to ${e.target} ${e.outcome} term=${e.term}`);
      else if (e.kind === 'timeout now') {
        trace(
          `${id} ${e.campaigned ? 'campaigns on' : 'ignores'} TimeoutNow from ${e.from}@${e.term}: ${e.reason}`,
        );
      }
    }
    transfers.observe(id, out.events, now);
    for (const m of out.messages) if (!out.hardState || isReply(m)) network.send(now, m);
    for (const m of out.probes ?? []) {
      if (live.has(m.to)) {
        network.send(now, m);
        if (chaotic && rng.chance(0.02)) refusalsDue.push({ at: now + 1, to: m.from, peer: m.to });
      } else if (network.connected(m.from, m.to) && network.connected(m.to, m.from) && !rng.chance(0.1)) {
        refusalsDue.push({ at: now + 1, to: m.from, peer: m.to });
      }
    }
    checker.observe(node.status(), `t=${now} seed=${options.seed}`);
  };

  const start = (id: NodeId): void => {
    const node = new RaftElection(config(id), durable.get(id));
    live.set(id, node);
    checker.observe(node.status(), `t=${now} seed=${options.seed} restart`);
  };

  const crash = (id: NodeId): void => {
    live.delete(id);
    transfers.crashed(id);
    crashes++;
    trace(`${id} crashes`);
  };

  const step = (): void => {
    now++;
    for (const m of network.due(now)) {
      const node = live.get(m.to);
      if (!node) continue;
      network.delivered++;
      apply(m.to, node, node.step(m));
    }
    const due = refusalsDue.filter((r) => r.at <= now);
    refusalsDue = refusalsDue.filter((r) => r.at > now);
    for (const r of due) {
      const node = live.get(r.to);
      if (!node) continue;
      refusals.stepped++;
      if (live.has(r.peer)) refusals.spurious++;
      trace(`${r.to} finds nobody at ${r.peer}${live.has(r.peer) ? ' (a stale refusal)' : ''}`);
      apply(r.to, node, node.peerUnreachable(r.peer));
    }
    for (const id of rng.shuffle([...live.keys()])) {
      const node = live.get(id);
      if (node) apply(id, node, node.tick());
    }
    transfers.check(now, `t=${now} seed=${options.seed}`);
  };

  /** Asks `id` to hand its leadership over; the target is named or (undefined) left to it. */
  const requestTransfer = (id: NodeId, target: NodeId | undefined): NodeId | null => {
    const node = live.get(id);
    if (!node) return null;
    transfers.requested();
    const r = node.transferLeadership(target);
    if (!r.accepted) {
      transfers.refused(r.reason);
      trace(`${id} refuses a transfer to ${target ?? 'any'}: ${r.reason}`);
      return null;
    }
    apply(id, node, r.output);
    return r.target;
  };

  /** A transfer at a random moment: mostly asked of a leader, sometimes of anyone. */
  const randomTransfer = (): void => {
    const leaders = [...live.keys()].filter((id) => live.get(id)?.status().role === 'leader');
    const id = leaders.length > 0 && rng.chance(0.8) ? rng.pick(leaders) : rng.pick([...live.keys()]);
    requestTransfer(id, rng.chance(0.8) ? rng.pick(ids) : undefined);
  };

  /** A leader that a majority of nodes follow in its term. */
  const stableLeader = (): NodeId | null => {
    for (const [id, node] of live) {
      const s = node.status();
      if (s.role !== 'leader') continue;
      let followers = 0;
      for (const other of live.values()) {
        const o = other.status();
        if (o.term === s.term && o.leader === id) followers++;
      }
      if (followers >= quorum) return id;
    }
    return null;
  };

  const chaos = (length: number): void => {
    const faults: NetworkFaults = {
      loss: rng.pick([0, 0.05, 0.2, 0.5]),
      duplication: rng.pick([0, 0.1, 0.3]),
      minDelay: 1,
      maxDelay: rng.pick([2, 10, 40, 100]),
    };
    network.setFaults(faults);
    network.heal();
    const shape = rng.pick(['none', 'split', 'partial', 'one-way', 'isolate-one', 'isolate-leader'] as const);
    const shuffled = rng.shuffle([...ids]);
    if (shape === 'split') {
      const at = rng.int(1, size - 1);
      network.partition([shuffled.slice(0, at), shuffled.slice(at)]);
    } else if (shape === 'partial') {
      // Some links cut both ways, others not at all: A–B and B–C work while A–C does not.
      for (const a of ids)
        for (const b of ids)
          if (a < b && rng.chance(0.35)) {
            network.cutLink(a, b);
            network.cutLink(b, a);
          }
    } else if (shape === 'one-way') {
      for (const a of ids) for (const b of ids) if (a !== b && rng.chance(0.3)) network.cutLink(a, b);
    } else if (shape === 'isolate-one' || shape === 'isolate-leader') {
      const victim = (shape === 'isolate-leader' ? stableLeader() : null) ?? rng.pick(ids);
      network.partition([[victim], ids.filter((i) => i !== victim)]);
    }
    if (shape !== 'none') partitions++;
    trace(
      `chaos for ${length} ticks: loss=${faults.loss} dup=${faults.duplication} delay<=${faults.maxDelay} cuts=${network.describeCuts()}`,
    );
    chaotic = true;
    for (let i = 0; i < length && now < totalTicks; i++) {
      if (rng.chance(0.004) && live.size > 0) crash(rng.pick([...live.keys()]));
      if (rng.chance(0.004) && live.size > 0) randomTransfer();
      const down = ids.filter((id) => !live.has(id));
      if (down.length > 0 && rng.chance(0.006)) {
        const id = rng.pick(down);
        trace(
          `${id} restarts from term=${durable.get(id)?.term ?? 0} votedFor=${durable.get(id)?.votedFor ?? '-'}`,
        );
        start(id);
      }
      step();
    }
    chaotic = false;
  };

  const calm = (): void => {
    network.heal();
    network.setFaults(CALM);
    // A majority must be up; the rest may stay down (a minority is allowed to be lost).
    const down = rng.shuffle(ids.filter((id) => !live.has(id)));
    const mayStayDown = rng.int(0, size - quorum);
    while (down.length > mayStayDown) {
      const id = down.pop() as NodeId;
      trace(
        `${id} restarts from term=${durable.get(id)?.term ?? 0} votedFor=${durable.get(id)?.votedFor ?? '-'}`,
      );
      start(id);
    }
    trace(`calm with ${live.size}/${size} nodes up`);
    const began = now;
    let recovered = -1;
    const length = LIVENESS_BOUND_TICKS + rng.int(0, 200);
    for (let i = 0; i < length; i++) {
      step();
      if (recovered < 0 && stableLeader() !== null) recovered = now - began;
    }
    if (recovered < 0 || recovered > LIVENESS_BOUND_TICKS) {
      checker.fail(
        `seed=${options.seed}: no stable leader within ${LIVENESS_BOUND_TICKS} ticks of calm from t=${began}`,
      );
    } else {
      slowestRecovery = Math.max(slowestRecovery, recovered);
      trace(`stable leader ${stableLeader()} after ${recovered} ticks of calm`);
      if (rng.chance(0.7)) drill();
      else if (live.size - 1 >= quorum && rng.chance(0.5)) crashLeader();
    }
  };

  /** The stable leader crashes in a calm cluster: the ticks until the next one are recorded. */
  const crashLeader = (): void => {
    const leader = stableLeader();
    if (leader === null) return;
    crash(leader);
    const began = now;
    while (stableLeader() === null) {
      if (now - began >= LIVENESS_BOUND_TICKS) {
        checker.fail(
          `seed=${options.seed}: no stable leader within ${LIVENESS_BOUND_TICKS} ticks of its crash at t=${began}`,
        );
        return;
      }
      step();
    }
    leaderCrashes.push(now - began);
    trace(`${stableLeader()} leads ${now - began} ticks after ${leader} crashed`);
  };

  /**
   * A planned transfer in a calm cluster: to a live target it must make that target leader; to a
   * target crashed or cut off at once, it must abort while the leader leads on. Either way a
   * stable leader must be back within the liveness bound; the ticks without one are recorded.
   */
  const drill = (): void => {
    const leader = stableLeader() as NodeId;
    const target = requestTransfer(
      leader,
      rng.chance(0.8) ? rng.pick(ids.filter((i) => i !== leader)) : undefined,
    );
    if (target === null) return;
    const sabotage =
      live.size - 1 >= quorum ? rng.pick(['none', 'none', 'crash', 'cut off'] as const) : 'none';
    if (sabotage === 'crash') crash(target);
    if (sabotage === 'cut off') network.partition([[target], ids.filter((i) => i !== target)]);
    trace(`drill: ${leader} transfers to ${target} (${sabotage === 'none' ? 'alive' : sabotage})`);
    const began = now;
    let leaderless = 0;
    while (transfers.inProgress() || stableLeader() === null) {
      if (now - began >= LIVENESS_BOUND_TICKS) {
        checker.fail(
          `seed=${options.seed}: no stable leader within ${LIVENESS_BOUND_TICKS} ticks of a transfer at t=${began}`,
        );
        return;
      }
      step();
      if (stableLeader() === null) leaderless++;
    }
    if (sabotage === 'none') {
      drills.live++;
      drillGap.live = Math.max(drillGap.live, leaderless);
      if (stableLeader() === target) drills.handedOver++;
      else
        checker.fail(
          `seed=${options.seed}: the transfer at t=${began} to ${target} left ${stableLeader()} leading`,
        );
    } else {
      drills.dead++;
      drillGap.dead = Math.max(drillGap.dead, leaderless);
    }
    trace(
      `drill over after ${now - began} ticks, ${leaderless} without a stable leader; leader ${stableLeader()}`,
    );
  };

  for (const id of ids) start(id);
  while (now < totalTicks && checker.violations.length === 0) {
    chaos(rng.int(100, 800));
    if (now < totalTicks) calm();
  }

  return {
    seed: options.seed,
    nodes: size,
    preVote,
    checkQuorum,
    leaderProbe,
    violations: checker.violations,
    leaderTerms: checker.leaders().size,
    crashes,
    crashesBeforeSave,
    partitions,
    messages: { sent: network.sent, delivered: network.delivered, dropped: network.dropped },
    slowestRecovery,
    transfers: transfers.counts,
    drills,
    drillGap,
    refusals,
    leaderCrashes,
    traceTail: tail,
  };
}
