/** Runs many seeds and summarises them; shared by the test and the `npm run sim` command. */
import { runSimulation, type SimulationResult } from './cluster-simulation.js';
import { emptyTransferCounts, type TransferCounts } from './transfer-tracker.js';

export interface SweepSummary {
  readonly runs: number;
  readonly failures: readonly SimulationResult[];
  readonly leaderTerms: number;
  readonly crashes: number;
  readonly crashesBeforeSave: number;
  readonly partitions: number;
  readonly messagesSent: number;
  readonly messagesDropped: number;
  readonly slowestRecovery: number;
  readonly transfers: TransferCounts;
  readonly drills: { live: number; handedOver: number; dead: number };
  readonly drillGap: { live: number; dead: number };
  /** Probe refusals stepped, and those from a live node (stale ones, injected in chaos). */
  readonly refusals: { stepped: number; spurious: number };
  /** Ticks from each calm crash of the stable leader to the next, in PreVote runs that probe and not. */
  readonly leaderCrashes: Record<'probing' | 'timeout', number[]>;
}

export function sweep(firstSeed: number, count: number, ticks?: number): SweepSummary {
  const failures: SimulationResult[] = [];
  let leaderTerms = 0;
  let crashes = 0;
  let crashesBeforeSave = 0;
  let partitions = 0;
  let messagesSent = 0;
  let messagesDropped = 0;
  let slowestRecovery = 0;
  const transfers = emptyTransferCounts();
  const drills = { live: 0, handedOver: 0, dead: 0 };
  const drillGap = { live: 0, dead: 0 };
  const refusals = { stepped: 0, spurious: 0 };
  const leaderCrashes = { probing: [] as number[], timeout: [] as number[] };
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const r = runSimulation(ticks === undefined ? { seed } : { seed, ticks });
    if (r.violations.length > 0) failures.push(r);
    leaderTerms += r.leaderTerms;
    crashes += r.crashes;
    crashesBeforeSave += r.crashesBeforeSave;
    partitions += r.partitions;
    messagesSent += r.messages.sent;
    messagesDropped += r.messages.dropped;
    slowestRecovery = Math.max(slowestRecovery, r.slowestRecovery);
    for (const k of Object.keys(transfers) as (keyof TransferCounts)[]) transfers[k] += r.transfers[k];
    drills.live += r.drills.live;
    drills.handedOver += r.drills.handedOver;
    drills.dead += r.drills.dead;
    drillGap.live = Math.max(drillGap.live, r.drillGap.live);
    drillGap.dead = Math.max(drillGap.dead, r.drillGap.dead);
    refusals.stepped += r.refusals.stepped;
    refusals.spurious += r.refusals.spurious;
    if (r.preVote) leaderCrashes[r.leaderProbe ? 'probing' : 'timeout'].push(...r.leaderCrashes);
  }
  return {
    runs: count,
    failures,
    leaderTerms,
    crashes,
    crashesBeforeSave,
    partitions,
    messagesSent,
    messagesDropped,
    slowestRecovery,
    transfers,
    drills,
    drillGap,
    refusals,
    leaderCrashes,
  };
}

export function describeFailure(r: SimulationResult): string {
  return [
    `seed ${r.seed} failed (${r.nodes} nodes, preVote=${r.preVote}, checkQuorum=${r.checkQuorum}, leaderProbe=${r.leaderProbe}):`,
    ...r.violations.slice(0, 5).map((v) => `  ${v}`),
    `  replay: npm run sim -- --seed ${r.seed} --verbose`,
    '  last trace lines:',
    ...r.traceTail.slice(-40).map((l) => `    ${l}`),
  ].join('\n');
}
