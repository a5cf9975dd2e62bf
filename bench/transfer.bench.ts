/**
 * `npm run bench:transfer`: planned leader restarts against crashes, in the same run. One client
 * writes back to back through the gateway (each write keyed, resent with its key until it is
 * acknowledged); `--restarts` times each, alternating, the leader is stopped with SIGTERM (it
 * hands its leadership over first) or killed with kill -9, then started again. The figure for
 * each stop is the longest time between two acknowledged writes from the stop until the gateway
 * knows the new leader (and the first write after): the client's write gap.
 */
import { parseArgs } from 'node:util';
import type { LogRecord } from '../launcher/local-cluster.js';
import type { ServiceRecord } from '../launcher/service-process.js';
import { SteadyWriter } from '../test-support/steady-writer.js';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { printTrace } from './log-trace.js';
import { ms, type Summary, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    restarts: { type: 'string', default: '30' },
    'base-port': { type: 'string', default: '25300' },
    /** Print every log line of the nodes and the gateway (at debug) from each stop to its first write after. */
    trace: { type: 'boolean', default: false },
  },
  strict: true,
});
const restarts = Number(values.restarts);
if (!Number.isInteger(restarts) || restarts < 1) {
  console.error(`--restarts must be a positive integer, got ${values.restarts}`);
  process.exit(2);
}

const nodeRecords: LogRecord[] = [];
const gatewayRecords: ServiceRecord[] = [];
const bench = await startBenchCluster(
  Number(values['base-port']),
  values.trace ? { LOG_LEVEL: 'debug' } : {},
  { onNodeRecord: (r) => nodeRecords.push(r), onGatewayRecord: (r) => gatewayRecords.push(r) },
);
const writer = new SteadyWriter({
  gatewayUrl: bench.gatewayUrl,
  apiToken: BENCH_TOKEN,
  prefix: `transfer-bench-${Date.now()}`,
  retry: true,
});
const gaps = { planned: [] as number[], crash: [] as number[] };
const uncleanExits: string[] = [];
try {
  writer.start();
  for (let i = 0; i < 2 * restarts; i++) {
    const kind = i % 2 === 0 ? 'planned' : 'crash';
    const { leader } = await bench.cluster.waitForAgreement(30_000);
    const known = await bench.leader();
    if (known.id !== leader) await bench.leader(known.term); // the gateway has caught up
    await writer.more(20); // steady state before the stop
    const refusedBefore = writer.refusals.length;
    const from = { node: nodeRecords.length, gateway: gatewayRecords.length };
    const stoppedAt = Date.now();
    const stopped = performance.now();
    const exit = await bench.cluster.kill(leader, kind === 'planned' ? 'SIGTERM' : 'SIGKILL');
    if (kind === 'planned' && exit?.code !== 0) uncleanExits.push(`${leader}: ${JSON.stringify(exit)}`);
    await bench.leader(known.term);
    const next = performance.now();
    await writer.more(1);
    const gap = writer.longestGap(stopped, next);
    gaps[kind].push(gap);
    const refused = writer.refusals.length - refusedBefore;
    if (values.trace) printTrace(nodeRecords, gatewayRecords, from, stoppedAt);
    process.stdout.write(
      `${kind === 'planned' ? 'SIGTERM' : 'kill -9'} ${leader}: longest write gap ${gap.toFixed(0)} ms${refused ? `, ${refused} refusals resent` : ''}\n`,
    );
    const back = bench.cluster.waitForReady([leader]);
    bench.cluster.start(leader);
    await back;
  }
  await writer.stop();
  const planned = summarize(gaps.planned);
  const crash = summarize(gaps.crash);
  const row = (name: string, s: Summary) =>
    `${name.padEnd(22)}${ms(s.p50)}   ${ms(s.p90)}   ${ms(s.p99)}   ${ms(s.max)}`;
  console.log(
    `\nlongest write gap through the gateway around a leader stop (${restarts} of each, one client writing back to back, 3 nodes)`,
  );
  console.log('                         p50     p90     p99     max   (ms)');
  console.log(row('planned (SIGTERM)', planned));
  console.log(row('crash (kill -9)', crash));
  console.log(
    `crash ÷ planned        ${(crash.p50 / planned.p50).toFixed(1).padStart(5)}   ${(crash.p90 / planned.p90).toFixed(1).padStart(5)}   ${(crash.p99 / planned.p99).toFixed(1).padStart(5)}   ${(crash.max / planned.max).toFixed(1).padStart(5)}`,
  );
  console.log(
    `${writer.acks.length} writes acknowledged, ${writer.refusals.length} refusals resent with the same key; ${uncleanExits.length ? `unclean exits on SIGTERM: ${uncleanExits.join(', ')}` : 'every SIGTERM exited 0'}`,
  );
} finally {
  await writer.stop();
  await bench.stop();
}
