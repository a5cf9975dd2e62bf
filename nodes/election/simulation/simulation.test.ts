import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from './cluster-simulation.js';
import { describeFailure, sweep } from './sweep.js';

test('1,000 seeded runs keep every safety invariant and elect a leader after every calm', () => {
  const s = sweep(1, 1000);
  assert.equal(s.failures.length, 0, s.failures.map(describeFailure).join('\n\n'));
  // The runs must actually have exercised the faults they claim to.
  assert.ok(s.crashes > 500, `only ${s.crashes} crashes`);
  assert.ok(s.partitions > 500, `only ${s.partitions} partitions`);
  assert.ok(s.messagesDropped > 10_000, `only ${s.messagesDropped} drops`);
  assert.ok(s.leaderTerms > 3000, `only ${s.leaderTerms} leader terms`);
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
