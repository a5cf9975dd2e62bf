import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from './cluster-simulation.js';
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

test('a seed replays exactly', () => {
  const lines1: string[] = [];
  const lines2: string[] = [];
  const a = runSimulation({ seed: 4242, onTrace: (l) => lines1.push(l) });
  const b = runSimulation({ seed: 4242, onTrace: (l) => lines2.push(l) });
  assert.deepEqual(lines2, lines1);
  assert.deepEqual(b, a);
  assert.ok(lines1.length > 50);
});
