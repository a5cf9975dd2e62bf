import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation, TIMING } from './cluster-simulation.js';
import { describeFailure, type SweepSummary, sweep } from './sweep.js';

/** The 1,000 seeds, run once for the tests that read them. */
let summary: SweepSummary | undefined;
const thousandSeeds = (): SweepSummary => {
  summary ??= sweep(1, 1000);
  return summary;
};

test('1,000 seeded runs keep every safety invariant and elect a leader after every calm and every drill', () => {
  const s = thousandSeeds();
  assert.equal(s.failures.length, 0, s.failures.map(describeFailure).join('\n\n'));
  // The runs must actually have exercised the faults they claim to.
  assert.ok(s.crashes > 500, `only ${s.crashes} crashes`);
  // Some between a candidate's vote requests and the save of the term and vote they ask in.
  assert.ok(s.crashesBeforeSave > 100, `only ${s.crashesBeforeSave} crashes before a save`);
  assert.ok(s.partitions > 500, `only ${s.partitions} partitions`);
  assert.ok(s.messagesDropped > 10_000, `only ${s.messagesDropped} drops`);
  assert.ok(s.leaderTerms > 3000, `only ${s.leaderTerms} leader terms`);
});

test('the same runs request leadership transfers: every outcome happens, and the calm drills keep a leader', () => {
  const s = thousandSeeds();
  const t = s.transfers;
  assert.ok(t.started > 1000 && t.refused > 1000, `${t.started} started, ${t.refused} refused`);
  assert.ok(t.completed > 500 && t.aborted > 500, `${t.completed} won by the target, ${t.aborted} aborted`);
  // A transfer to a live target in a calm cluster always makes it leader, within a few message delays.
  assert.ok(s.drills.live > 500, `${s.drills.live} drills to a live target`);
  assert.equal(s.drills.handedOver, s.drills.live);
  assert.ok(s.drillGap.live <= 10, `${s.drillGap.live} ticks without a stable leader`);
  // One to a crashed or cut-off target aborts, and the leader never stops leading meanwhile.
  assert.ok(s.drills.dead > 500, `${s.drills.dead} drills to a dead target`);
  assert.equal(s.drillGap.dead, 0);
});

test('in runs that probe a late leader, a crashed leader is replaced in half the time, mostly before any timeout', () => {
  const s = thousandSeeds();
  const median = (v: readonly number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] as number;
  const { probing, timeout } = s.leaderCrashes;
  assert.ok(
    // Both groups are of PreVote runs (probes need it), so they differ by the probes alone.
    probing.length > 200 && timeout.length > 30,
    `${probing.length} and ${timeout.length} leader crashes`,
  );
  // Ticks from the crash to a leader that a majority follows. Without probes the followers must
  // wait out an election timeout (30–60 ticks); with them, a refused probe a third of a heartbeat
  // (4 ticks) after a missed one. Larger clusters whose first pre-candidate most peers refused
  // (the lease) fall back to the timeout, and some refusals are lost (10 %).
  const beforeTimeout = probing.filter((t) => t <= TIMING.electionTimeoutMin).length;
  assert.ok(
    beforeTimeout >= 0.9 * probing.length,
    `${beforeTimeout} of ${probing.length} within the minimum timeout`,
  );
  assert.ok(
    median(probing) * 1.5 <= median(timeout),
    `median ${median(probing)} against ${median(timeout)} ticks`,
  );
  // Stale refusals (from a live node) were stepped too, and safety held through them (above).
  assert.ok(s.refusals.spurious > 500, `${s.refusals.spurious} stale refusals`);
});

test('a seed replays exactly', () => {
  const lines1: string[] = [];
  const lines2: string[] = [];
  const a = runSimulation({ seed: 4242, onTrace: (l) => lines1.push(l) });
  const b = runSimulation({ seed: 4242, onTrace: (l) => lines2.push(l) });
  assert.deepEqual(lines2, lines1);
  assert.deepEqual(b, a);
  assert.ok(lines1.length > 50);
});
