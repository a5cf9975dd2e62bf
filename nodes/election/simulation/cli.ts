/**
 * `npm run sim -- --seeds N [--from S] [--ticks T]` runs N seeded simulations;
 * `npm run sim -- --seed S [--verbose]` replays one, printing every step with --verbose.
 */
import { parseArgs } from 'node:util';
import { LIVENESS_BOUND_TICKS, runSimulation } from './cluster-simulation.js';
import { describeFailure, sweep } from './sweep.js';

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1000' },
      from: { type: 'string', default: '1' },
      seed: { type: 'string' },
      ticks: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${text}"`);
    return n;
  };
  const ticks = int('ticks', values.ticks);

  const one = int('seed', values.seed);
  if (one !== undefined) {
    const r = runSimulation({
      seed: one,
      ...(ticks === undefined ? {} : { ticks }),
      ...(values.verbose ? { onTrace: (l: string) => console.log(l) } : {}),
    });
    if (r.violations.length > 0) {
      console.log(describeFailure(r));
      return 1;
    }
    console.log(
      `seed ${one}: ok (${r.nodes} nodes, ${r.leaderTerms} leader terms, ${r.crashes} crashes, slowest recovery ${r.slowestRecovery} ticks)`,
    );
    return 0;
  }

  const count = int('seeds', values.seeds) ?? 1000;
  const from = int('from', values.from) ?? 1;
  const started = performance.now();
  const s = sweep(from, count, ticks);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const f of s.failures.slice(0, 3)) console.log(describeFailure(f));
  console.log(
    `${s.runs} seeds (${from}..${from + count - 1}) in ${seconds} s: ${s.failures.length} failed; ` +
      `${s.leaderTerms} leader terms, ${s.crashes} crashes (${s.crashesBeforeSave} before a save), ${s.partitions} partitions, ` +
      `${s.messagesSent} messages (${s.messagesDropped} dropped); slowest recovery ${s.slowestRecovery} ticks ` +
      `(bound ${LIVENESS_BOUND_TICKS})`,
  );
  const t = s.transfers;
  console.log(
    `transfers: ${t.requested} requested, ${t.refused} refused, ${t.started} started, ${t.completed} won by the target, ` +
      `${t.aborted} aborted; calm drills: ${s.drills.handedOver}/${s.drills.live} to a live target handed over ` +
      `(at most ${s.drillGap.live} ticks without a stable leader), ${s.drills.dead} to a crashed or cut-off target ` +
      `(at most ${s.drillGap.dead} ticks without one)`,
  );
  if (s.failures.length > 0) console.log(`failing seeds: ${s.failures.map((f) => f.seed).join(' ')}`);
  return s.failures.length === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`sim: ${(error as Error).message}`);
  process.exitCode = 2;
}
