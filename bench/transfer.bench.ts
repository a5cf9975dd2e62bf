/**
 * `npm run bench:transfer`: planned leader restarts against crashes, in the same run. One client
 * writes back to back through the gateway (each write keyed, resent with its key until it is
 * acknowledged); `--restarts` times each, alternating, the leader is stopped with SIGTERM (it
 * hands its leadership over first) or killed with kill -9, then started again. The figure for
 * each stop is the longest time between two acknowledged writes from the stop until the gateway
 * knows the new leader (and the first write after): the client's write gap. With `--sched`, it
 * also takes each process's CPU time and run-queue wait from each SIGTERM to the write that ended
 * its gap (/proc/<pid>/schedstat): where a hand-over's time goes on a shared machine. After
 * each SIGTERM's restart, a window as long as that stop's with no stop in it gives the baseline:
 * the longest gap the machine makes anyway.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { LogRecord } from '../launcher/local-cluster.js';
import type { ServiceRecord } from '../launcher/service-process.js';
import { SteadyWriter } from '../test-support/steady-writer.js';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { printTrace } from './log-trace.js';
import { postgresPids, schedMs } from './proc-cpu.js';
import { ms, type Summary, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    restarts: { type: 'string', default: '30' },
    'base-port': { type: 'string', default: '25300' },
    /** Print every log line of the nodes and the gateway (at debug) from each stop to its first write after. */
    trace: { type: 'boolean', default: false },
    /** Per SIGTERM: each process's CPU time and run-queue wait from the stop to the write that ended the gap. */
    sched: { type: 'boolean', default: false },
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
const gaps = { planned: [] as number[], crash: [] as number[], none: [] as number[] };
/** The roles whose scheduling --sched reports, in print order. */
const ROLES = ['old leader', 'new leader', 'other node', 'gateway', 'PostgreSQL', 'client'] as const;
type Role = (typeof ROLES)[number];
type Sched = Record<Role, { run: number; wait: number }>;
const scheds: Sched[] = [];
const uncleanExits: string[] = [];
try {
  writer.start();
  for (let i = 0; i < 2 * restarts; i++) {
    const kind = i % 2 === 0 ? 'planned' : 'crash';
    const { leader, known } = await steadyState();
    const refusedBefore = writer.refusals.length;
    const from = { node: nodeRecords.length, gateway: gatewayRecords.length };
    const sched = values.sched && kind === 'planned' ? schedWatch(leader) : null;
    const stoppedAt = Date.now();
    const stopped = performance.now();
    const exit = await bench.cluster.kill(leader, kind === 'planned' ? 'SIGTERM' : 'SIGKILL');
    if (kind === 'planned' && exit?.code !== 0) uncleanExits.push(`${leader}: ${JSON.stringify(exit)}`);
    const successor = await bench.leader(known.term);
    const next = performance.now();
    await writer.more(1);
    const span = writer.longestGapSpan(stopped, next);
    const gap = span.ms;
    gaps[kind].push(gap);
    const spent = sched?.at(span.end, successor.id);
    if (spent) {
      scheds.push(spent);
      process.stdout.write(
        `  CPU / run-queue wait (ms) from SIGTERM to the write ending the gap: ${schedRow(spent)}\n`,
      );
    }
    const refused = writer.refusals.length - refusedBefore;
    // A planned stop far past its target shows its log lines (info, or debug with --trace) anyway.
    if (values.trace || (kind === 'planned' && gap >= 100)) {
      printTrace(nodeRecords, gatewayRecords, from, stoppedAt);
      // The client's side: each acknowledgement from the stop to the write that ended the gap.
      const acked = writer.acks
        .map((a) => a.at - stopped)
        .filter((t) => t >= -5 && t <= span.end - stopped)
        .sort((a, b) => a - b);
      process.stdout.write(`    acknowledged at +${acked.map((t) => t.toFixed(0)).join(' +')} ms\n`);
    }
    process.stdout.write(
      `${kind === 'planned' ? 'SIGTERM' : 'kill -9'} ${leader}: longest write gap ${gap.toFixed(0)} ms${refused ? `, ${refused} refusals resent` : ''} (from +${(span.end - gap - stopped).toFixed(0)} to +${(span.end - stopped).toFixed(0)} ms after the stop)\n`,
    );
    const back = bench.cluster.waitForReady([leader]);
    bench.cluster.start(leader);
    await back;
    if (kind === 'planned') {
      // The baseline: a window as long as this stop's, with no stop in it, after the same
      // preamble — the gaps this machine makes anyway (a commit's fsync, a GC, a busy core).
      await steadyState();
      const from = performance.now();
      await sleep(next - stopped);
      const to = performance.now();
      await writer.more(1);
      gaps.none.push(writer.longestGapSpan(from, to).ms);
    }
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
  console.log(row('no stop (baseline)', summarize(gaps.none)));
  console.log(
    `crash ÷ planned        ${(crash.p50 / planned.p50).toFixed(1).padStart(5)}   ${(crash.p90 / planned.p90).toFixed(1).padStart(5)}   ${(crash.p99 / planned.p99).toFixed(1).padStart(5)}   ${(crash.max / planned.max).toFixed(1).padStart(5)}`,
  );
  if (scheds.length > 0) {
    const p50 = (role: Role, what: 'run' | 'wait') => summarize(scheds.map((x) => x[role][what])).p50;
    const median = Object.fromEntries(
      ROLES.map((r) => [r, { run: p50(r, 'run'), wait: p50(r, 'wait') }]),
    ) as Sched;
    console.log(
      `CPU / run-queue wait (ms) from SIGTERM to the write ending the gap, p50 of each: ${schedRow(median)}`,
    );
  }
  console.log(
    `${writer.acks.length} writes acknowledged, ${writer.refusals.length} refusals resent with the same key; ${uncleanExits.length ? `unclean exits on SIGTERM: ${uncleanExits.join(', ')}` : 'every SIGTERM exited 0'}`,
  );
} finally {
  await writer.stop();
  await bench.stop();
}

/** The cluster agreed on a leader, the gateway knowing it, and writes flowing: before each window. */
async function steadyState() {
  const { leader } = await bench.cluster.waitForAgreement(30_000);
  const known = await bench.leader();
  if (known.id !== leader) await bench.leader(known.term); // the gateway has caught up
  await writer.more(20);
  return { leader, known };
}

/**
 * Snapshots of the processes' schedstat at the stop and at each acknowledgement until the stop's
 * figures are taken: `at(ackTime, newLeader)` gives each role's CPU and wait between the stop and
 * that acknowledgement (reading a few files per write: only with --sched).
 */
function schedWatch(stopping: string) {
  const nodePids = new Map(bench.cluster.ids.map((id) => [id, bench.cluster.pid(id)]));
  const pids = {
    nodes: [...nodePids.values()].filter((p) => p !== undefined),
    gateway: bench.gateway.pid,
    postgres: postgresPids(bench.postgresPort),
  };
  const take = () => {
    const one = (pid: number | undefined) => (pid === undefined ? { run: 0, wait: 0 } : schedMs(pid));
    return {
      nodes: new Map(pids.nodes.map((pid) => [pid, one(pid)])),
      gateway: one(pids.gateway),
      postgres: new Map(pids.postgres.map((pid) => [pid, one(pid)])),
      client: one(process.pid),
    };
  };
  const start = take();
  const byAck = new Map<number, ReturnType<typeof take>>();
  const off = writer.onAck((ack) => byAck.set(ack.at, take()));
  return {
    at(ackTime: number, newLeader: string): Sched | null {
      off();
      const end = byAck.get(ackTime);
      if (!end) return null;
      const minus = (a: { run: number; wait: number }, b: { run: number; wait: number }) => ({
        run: a.run - b.run,
        wait: a.wait - b.wait,
      });
      const node = (id: string | undefined) => {
        const pid = id === undefined ? undefined : nodePids.get(id);
        const [a, b] = [pid && end.nodes.get(pid), pid && start.nodes.get(pid)];
        // Gone by then (its figures read as zeros): not known.
        return a && b && a.run > 0 ? minus(a, b) : { run: Number.NaN, wait: Number.NaN };
      };
      // PostgreSQL's processes that lived to the end (a backend of the stopped node may not).
      const postgres = [...end.postgres]
        .filter(([, a]) => a.run > 0)
        .map(([pid, a]) => minus(a, start.postgres.get(pid) ?? a))
        .reduce((a, b) => ({ run: a.run + b.run, wait: a.wait + b.wait }), { run: 0, wait: 0 });
      const other = bench.cluster.ids.find((id) => id !== stopping && id !== newLeader);
      return {
        'old leader': node(stopping),
        'new leader': node(newLeader),
        'other node': node(other),
        gateway: minus(end.gateway, start.gateway),
        PostgreSQL: postgres,
        client: minus(end.client, start.client),
      };
    },
  };
}

function schedRow(s: Sched): string {
  return ROLES.map((r) => `${r} ${s[r].run.toFixed(1)} / ${s[r].wait.toFixed(1)}`).join(', ');
}
