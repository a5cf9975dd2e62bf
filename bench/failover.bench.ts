/**
 * `npm run bench:failover -- --database` times the database's primary moving instead (Patroni
 * switchovers and failovers under a write load): bench/database-failovers.ts.
 *
 * `npm run bench:failover [-- --kills 30 --base-port 25100 --etcd-port 25200 --heartbeat 30 --election-timeout 150-300 --leader-probe on]`: kill -9 the
 * leader at a random phase of the heartbeat and time, per kill, from the kill to each phase of
 * the failover, read from the processes' own log lines (pino's `time` and the bench's Date.now():
 * one wall clock, every process on this machine):
 *
 *   first pre-vote        a survivor's `to: 'pre-candidate'` transition
 *   new leader            the `to: 'leader'` transition of a higher term
 *   fence taken           'write fence taken' (the fence row written, in the claim's transaction)
 *   LeaderElected stored  'LeaderElected stored' (the claim committed)
 *   gateway knows         the gateway's 'leader announced' / 'leader found by health check' /
 *                         'leader learnt from its transition' of that term
 *   write acknowledged    a write sent through the gateway at the kill answers without errors
 *                         (the gateway retries it with the same idempotency key)
 *
 * The same run does the same to etcd (bench/etcd-failovers.ts), with a client that retries a put
 * through a survivor, one etcd kill after each ensemble kill (so both see the same load on a
 * shared machine), and prints both rows and their ratio.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { IDEMPOTENCY_KEY_HEADER } from '../common/http-headers.js';
import type { LogRecord } from '../launcher/local-cluster.js';
import type { ServiceRecord } from '../launcher/service-process.js';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { formatDatabaseRound, reportDatabaseFailovers, runDatabaseFailovers } from './database-failovers.js';
import {
  ETCD_ELECTION_TIMEOUT_MS,
  ETCD_HEARTBEAT_MS,
  type EtcdBench,
  type EtcdFailover,
  etcdMissing,
  startEtcdBench,
} from './etcd-failovers.js';
import { postJson } from './http-client.js';
import { printTrace, timeOf } from './log-trace.js';
import { ms, type Summary, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '30' },
    'base-port': { type: 'string', default: '25100' },
    'etcd-port': { type: 'string', default: '25200' },
    /** The nodes' heartbeat in ms (the node's default, as etcd's side runs). */
    heartbeat: { type: 'string', default: '30' },
    /** The nodes' election timeout range in ms (the node's default is 150-300). */
    'election-timeout': { type: 'string', default: '150-300' },
    /** The nodes' LEADER_PROBE: `off` waits for the election timeout as etcd does. */
    'leader-probe': { type: 'string', default: 'on' },
    /** Print every log line of the nodes and the gateway (at debug) from each kill to its write. */
    trace: { type: 'boolean', default: false },
    /** The database fails over and switches over `--kills` times each, not the leader. */
    database: { type: 'boolean', default: false },
    /** With --database: clients writing back to back through the gateway. */
    clients: { type: 'string', default: '4' },
  },
  strict: true,
});
const kills = Number(values.kills);
if (!Number.isInteger(kills) || kills < 1)
  throw new Error(`--kills must be a positive integer, not ${values.kills}`);
const HEARTBEAT_MS = Number(values.heartbeat);
if (!Number.isInteger(HEARTBEAT_MS) || HEARTBEAT_MS < 1 || HEARTBEAT_MS * 3 > 150)
  throw new Error(
    `--heartbeat must be an integer from 1 to 50 (a third of the 150 ms election timeout), not ${values.heartbeat}`,
  );
const ELECTION_TIMEOUT = values['election-timeout'];
if (!/^\d+-\d+$/.test(ELECTION_TIMEOUT))
  throw new Error(`--election-timeout must be a range in ms like 150-300, not ${ELECTION_TIMEOUT}`);

const LEADER_PROBE = values['leader-probe'];
if (LEADER_PROBE !== 'on' && LEADER_PROBE !== 'off')
  throw new Error(`--leader-probe must be on or off, not ${LEADER_PROBE}`);

const PHASES = ['preVote', 'leader', 'fence', 'stored', 'gateway', 'ack'] as const;
type Phase = (typeof PHASES)[number];
const LABELS: Record<Phase, string> = {
  preVote: 'kill → first pre-vote',
  leader: 'kill → new leader',
  fence: 'kill → fence taken',
  stored: 'kill → LeaderElected stored',
  gateway: 'kill → gateway knows the leader',
  ack: 'kill → write acknowledged',
};
type Sample = Record<Phase, number> & { termJump: number };

/** Records as they arrive, each with its wall-clock `time` in ms. */
const nodeRecords: LogRecord[] = [];
const gatewayRecords: ServiceRecord[] = [];
const GATEWAY_LEARNT = new Set([
  'leader announced',
  'leader found by health check',
  'leader learnt from its transition',
]);

async function run(etcdBench: EtcdBench | null): Promise<{ ensemble: Sample[]; etcd: EtcdFailover[] }> {
  const bench = await startBenchCluster(
    Number(values['base-port']),
    values.trace ? { LOG_LEVEL: 'debug' } : {},
    {
      onNodeRecord: (r) => nodeRecords.push(r),
      onGatewayRecord: (r) => gatewayRecords.push(r),
    },
    {
      timing: { heartbeatIntervalMs: HEARTBEAT_MS, electionTimeoutMs: ELECTION_TIMEOUT },
      nodeEnv: { LEADER_PROBE, ...(values.trace ? { LOG_LEVEL: 'debug' } : {}) },
    },
  );
  // Like etcd's client: the same write again until one is acknowledged (the gateway refuses with
  // NO_LEADER when no leader came within its wait), under one idempotency key.
  const write = async (i: number) => {
    const headers = {
      authorization: `Bearer ${BENCH_TOKEN}`,
      [IDEMPOTENCY_KEY_HEADER]: `failover-${randomUUID()}`,
    };
    const body = JSON.stringify({
      query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
      variables: { t: `failover ${i}` },
    });
    for (let attempt = 1; ; attempt++) {
      const res = await postJson(`${bench.gatewayUrl}/graphql`, body, headers).catch((e: Error) => ({
        status: 0,
        text: e.message,
      }));
      if (res.status === 200 && !res.text.includes('"errors"')) return attempt;
      if (attempt >= 10) throw new Error(`write after kill ${i} failed ${attempt} times, last: ${res.text}`);
    }
  };
  const ensemble: Sample[] = [];
  const etcd: EtcdFailover[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const { leader, term } = await bench.cluster.waitForAgreement(30_000);
      const known = await bench.leader();
      if (known.id !== leader) await bench.leader(known.term); // the gateway has caught up
      // A random phase of the heartbeat (agreement is reached just after one arrived).
      await sleep(200 + Math.random() * HEARTBEAT_MS);
      const fromNode = nodeRecords.length;
      const fromGateway = gatewayRecords.length;
      const t0 = Date.now();
      await bench.cluster.kill(leader);
      const sends = await write(k);
      const ack = Date.now() - t0;
      if (sends > 1) process.stdout.write(`  (the write after kill ${k + 1} was sent ${sends} times)\n`);
      const sample = await phases(fromNode, fromGateway, t0, term, ack);
      ensemble.push(sample);
      if (values.trace) printTrace(nodeRecords, gatewayRecords, { node: fromNode, gateway: fromGateway }, t0);
      const n = `${String(k + 1).padStart(3)}/${kills}`;
      const split = (jump: number) => (jump > 1 ? ` (term +${jump}: split vote)` : '');
      process.stdout.write(
        `  ensemble kill ${n}: ${PHASES.map((p) => `${p} ${sample[p].toFixed(0)}`).join(', ')} ms${split(sample.termJump)}\n`,
      );
      const back = bench.cluster.waitForReady([leader]);
      bench.cluster.start(leader);
      await back;
      if (etcdBench) {
        const e = await etcdBench.failover(k);
        etcd.push(e);
        process.stdout.write(
          `  etcd     kill ${n}: preVote ${e.preVote.toFixed(0)}, leader ${e.leader.toFixed(0)}, ack ${e.ack?.toFixed(0)} ms${split(e.termJump)}\n`,
        );
      }
    }
    return { ensemble, etcd };
  } finally {
    await bench.stop();
  }
}

/** Each phase of one failover from the logs (waiting briefly for lines still in the pipes). */
async function phases(
  fromNode: number,
  fromGateway: number,
  t0: number,
  oldTerm: number,
  ack: number,
): Promise<Sample> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const nodes = nodeRecords.slice(fromNode);
    const elected = nodes.find((r) => r.to === 'leader' && (r.term as number) > oldTerm);
    const term = elected?.term as number | undefined;
    const at = (found: { readonly [field: string]: unknown } | undefined) =>
      found ? timeOf(found) - t0 : undefined;
    const of = (msg: string) => nodes.find((r) => r.msg === msg && r.term === term);
    const found = {
      preVote: at(nodes.find((r) => r.to === 'pre-candidate')),
      leader: at(elected),
      fence: at(of('write fence taken')),
      stored: at(of('LeaderElected stored')),
      gateway: at(
        gatewayRecords
          .slice(fromGateway)
          .find(
            (r) => GATEWAY_LEARNT.has(r.msg) && typeof r.term === 'number' && r.term >= (term ?? Infinity),
          ),
      ),
    };
    const missing = Object.entries(found).filter(([, v]) => v === undefined);
    if (missing.length === 0 && term !== undefined) {
      return { ...(found as Record<Exclude<Phase, 'ack'>, number>), ack, termJump: term - oldTerm };
    }
    if (Date.now() > deadline)
      throw new Error(`no log line for ${missing.map(([p]) => p).join(', ')} within 10 s of the write`);
    await sleep(10);
  }
}

function row(label: string, s: Summary): string {
  return `  ${label.padEnd(42)} ${ms(s.p50)}  ${ms(s.p90)}  ${ms(s.p99)}  ${ms(s.max)}`;
}

const HEADER = `  ${''.padEnd(42)}   p50    p90    p99    max   (ms)`;

function report(ensemble: Sample[], etcd: EtcdFailover[] | null): void {
  console.log(
    `\nensemble: kill -9 the leader → each phase (${ensemble.length} kills, 3 nodes, election timeout ${ELECTION_TIMEOUT} ms, heartbeat ${HEARTBEAT_MS} ms, leader probes ${LEADER_PROBE})`,
  );
  console.log(HEADER);
  for (const p of PHASES) console.log(row(LABELS[p], summarize(ensemble.map((s) => s[p]))));
  const splits = ensemble.filter((s) => s.termJump > 1).length;
  console.log(`  split votes (term moved by more than one): ${splits}/${ensemble.length}`);
  if (!etcd) return;
  console.log(
    `\netcd 3.4: kill -9 the leader → each phase (${etcd.length} kills, 3 members, election timeout ${ETCD_ELECTION_TIMEOUT_MS} ms, heartbeat ${ETCD_HEARTBEAT_MS} ms, PreVote)`,
  );
  console.log(HEADER);
  console.log(row('kill → first pre-vote', summarize(etcd.map((s) => s.preVote))));
  console.log(row('kill → new leader', summarize(etcd.map((s) => s.leader))));
  console.log(row('kill → put acknowledged', summarize(etcd.map((s) => s.ack ?? Number.NaN))));
  console.log(
    `  split votes (term moved by more than one): ${etcd.filter((s) => s.termJump > 1).length}/${etcd.length}`,
  );
  console.log('\nensemble ÷ etcd                                p50    p90    p99    max');
  const ratio = (label: string, a: Summary, b: Summary) =>
    console.log(
      `  ${label.padEnd(42)} ${[a.p50 / b.p50, a.p90 / b.p90, a.p99 / b.p99, a.max / b.max].map((x) => x.toFixed(2).padStart(5)).join('  ')}`,
    );
  const leaderE = summarize(ensemble.map((s) => s.leader));
  const leaderC = summarize(etcd.map((s) => s.leader));
  const ackE = summarize(ensemble.map((s) => s.ack));
  const ackC = summarize(etcd.map((s) => s.ack ?? Number.NaN));
  ratio('kill → new leader', leaderE, leaderC);
  ratio('kill → write acknowledged', ackE, ackC);
  // The election timeout's draw dominates the rows above (each side's p50 moves by ± 20 ms from
  // run to run); from the first pre-vote on, what remains is each implementation's own path.
  const after = (xs: readonly number[]) => summarize(xs.filter((x) => Number.isFinite(x)));
  const votedE = after(ensemble.map((s) => s.leader - s.preVote));
  const votedC = after(etcd.map((s) => s.leader - s.preVote));
  const wroteE = after(ensemble.map((s) => s.ack - s.preVote));
  const wroteC = after(etcd.map((s) => (s.ack ?? Number.NaN) - s.preVote));
  console.log('\nfrom the first pre-vote (the timeout drawn)     p50    p90    p99    max   (ms)');
  console.log(row('ensemble: → new leader', votedE));
  console.log(row('etcd:     → new leader', votedC));
  console.log(row('ensemble: → write acknowledged', wroteE));
  console.log(row('etcd:     → put acknowledged', wroteC));
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  console.log(
    `\ntarget: write p50 ≤ etcd's (${ackE.p50.toFixed(0)} vs ${ackC.p50.toFixed(0)} ms) ${verdict(ackE.p50 <= ackC.p50)}; ` +
      `write p99 ≤ 1.2 × etcd's (${ackE.p99.toFixed(0)} vs ${(1.2 * ackC.p99).toFixed(0)} ms) ${verdict(ackE.p99 <= 1.2 * ackC.p99)}; ` +
      `leader p99 ≤ etcd's (${leaderE.p99.toFixed(0)} vs ${leaderC.p99.toFixed(0)} ms) ${verdict(leaderE.p99 <= leaderC.p99)}`,
  );
  // What the p50 comparison is made of: both sides draw their timeouts from one distribution, so
  // the first line moves from run to run with the draw alone; the second is the code's.
  const preVoteE = after(ensemble.map((s) => s.preVote));
  const preVoteC = after(etcd.map((s) => s.preVote));
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;
  console.log(
    `the write's p50 against etcd's put, ${signed(ackE.p50 - ackC.p50)} ms: the first pre-vote's p50 ` +
      `${signed(preVoteE.p50 - preVoteC.p50)} ms (the timeout drawn), the p50 from it to the write ` +
      `${signed(wroteE.p50 - wroteC.p50)} ms (the rest; p50s do not add up exactly)`,
  );
}

async function leaderFailovers(): Promise<void> {
  const missing = etcdMissing();
  if (missing) console.log(missing);
  const etcdBench = missing
    ? null
    : await startEtcdBench({ basePort: Number(values['etcd-port']), withPut: true });
  try {
    const { ensemble, etcd } = await run(etcdBench);
    report(ensemble, etcdBench ? etcd : null);
  } finally {
    await etcdBench?.stop();
  }
}

async function databaseFailovers(): Promise<void> {
  const clients = Number(values.clients);
  if (!Number.isInteger(clients) || clients < 1)
    throw new Error(`--clients must be a positive integer, not ${values.clients}`);
  const { rounds, timing } = await runDatabaseFailovers({
    rounds: kills,
    basePort: Number(values['base-port']),
    clients,
    trace: values.trace,
    onRound: (round, i) =>
      process.stdout.write(
        `  ${round.fault.padEnd(10)} ${String(Math.floor(i / 2) + 1).padStart(3)}/${kills}: ${formatDatabaseRound(round)}\n`,
      ),
  });
  reportDatabaseFailovers(rounds, timing);
}

await (values.database ? databaseFailovers() : leaderFailovers());
