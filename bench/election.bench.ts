/**
 * The election benchmark: real node processes on loopback (the same LocalCluster that `npm start`
 * and the process tests drive), real UDP, real fsync'd term and vote. Nodes need PostgreSQL to
 * boot, so the benchmark starts an embedded one (as the tests do), a fresh database per cluster.
 *
 *   npm run bench:election [-- --sizes 3,5 --kills 30 --runs 10 --base-port 24000 --leader-probe on]
 *
 * For each cluster size it measures
 *   - start-up: from spawning every process to the first `to: 'leader'` record (Node boot
 *     included), and from the first node's 'election started' record to that leader (boot
 *     excluded); `--runs` times, each with a whole new cluster and fresh data dirs;
 *   - failover: `--kills` times, with a stable leader that every node follows, SIGKILL the
 *     leader and time from the kill call to the arrival of a `to: 'leader'` record of a higher
 *     term; then restart the killed node and wait until it follows the new leader;
 *   - for 3 nodes, the same kills of etcd's leader (bench/etcd-failovers.ts: 3 members, heartbeat
 *     30 ms, election timeout 150 ms, PreVote), kill → new leader from etcd's log, and the ratio.
 * Times are when records arrive in this process (performance.now()); the children's pipes add
 * the same small delay to both ends of every interval.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { type EtcdFailover, etcdMissing, startEtcdBench } from './etcd-failovers.js';
import { ms, type Summary, summarize } from './stats.js';

const ELECTION_TIMEOUT = { min: 150, max: 300 };
const HEARTBEAT_MS = 30;
const SECRET = 'bench-election-secret-0123456789';
const API_TOKEN = 'bench-election-api-token-0123456789';
/** Failover targets, as multiples of the minimum election timeout. */
const TARGET_P50 = 1.3;
const TARGET_P99 = 3;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '3,5' },
    kills: { type: 'string', default: '30' },
    runs: { type: 'string', default: '10' },
    'base-port': { type: 'string', default: '24000' },
    /** The nodes' LEADER_PROBE: `off` waits for the election timeout as etcd does. */
    'leader-probe': { type: 'string', default: 'on' },
    /** Print the election records of failovers with a repeated pre-vote or over 2 × 150 ms. */
    trace: { type: 'boolean', default: false },
  },
  strict: true,
});

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${text}`);
  return n;
}

const sizes = args.sizes.split(',').map((s) => positiveInt('sizes', s.trim()));
const kills = positiveInt('kills', args.kills);
const runs = positiveInt('runs', args.runs);
const basePort = positiveInt('base-port', args['base-port']);
const LEADER_PROBE = args['leader-probe'];
if (LEADER_PROBE !== 'on' && LEADER_PROBE !== 'off')
  throw new Error(`--leader-probe must be on or off, not ${LEADER_PROBE}`);

interface View {
  leader: string | null;
  term: number;
}

/**
 * A LocalCluster plus what its logs say: each node's view of the leader, the arrival time of
 * every record, and conditions to wait for (checked after every record).
 */
class Observed {
  readonly cluster: LocalCluster;
  readonly views = new Map<string, View>();
  readonly arrivals = new WeakMap<LogRecord, number>();
  readonly records: LogRecord[] = [];
  private readonly expectedExits = new Set<string>();
  private readonly conditions = new Set<() => void>();
  unexpected: string | null = null;
  /** Nodes that did not exit within the grace period after SIGTERM. */
  readonly stuck: string[] = [];

  constructor(size: number, dataRoot: string, databaseUrl: string, port: number) {
    this.cluster = new LocalCluster({
      size,
      secret: SECRET,
      dataRoot,
      databaseUrl,
      apiToken: API_TOKEN,
      basePort: port,
      baseUdpPort: port + 10,
      electionTimeoutMs: `${ELECTION_TIMEOUT.min}-${ELECTION_TIMEOUT.max}`,
      heartbeatIntervalMs: HEARTBEAT_MS,
      env: { LEADER_PROBE },
      onRecord: (r) => this.record(r),
      onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
      onExit: (node, code, signal) => {
        if (this.expectedExits.delete(node)) return;
        this.unexpected ??= `${node} exited on its own (code ${code}, signal ${signal})`;
        process.stderr.write(`${this.unexpected}\n`);
      },
    });
  }

  private record(r: LogRecord): void {
    this.arrivals.set(r, performance.now());
    this.records.push(r);
    if (typeof r.term === 'number') {
      const view = this.views.get(r.node) ?? { leader: null, term: 0 };
      if ('leader' in r && r.msg !== 'election started') {
        view.leader = (r.leader as string | null) ?? null;
        view.term = r.term;
      } else if (typeof r.to === 'string' || r.msg === 'election started') {
        view.term = r.term;
      }
      this.views.set(r.node, view);
    }
    for (const check of [...this.conditions]) check();
  }

  arrival(r: LogRecord): number {
    const t = this.arrivals.get(r);
    if (t === undefined) throw new Error('record without an arrival time');
    return t;
  }

  start(id: string): void {
    this.views.delete(id);
    this.cluster.start(id);
  }

  startAll(): void {
    for (const id of this.cluster.ids) this.start(id);
  }

  async kill(id: string): Promise<void> {
    this.expectedExits.add(id);
    await this.cluster.kill(id, 'SIGKILL');
  }

  /** SIGTERM, and SIGKILL for whoever has not exited after a grace period (a stuck shutdown). */
  async stopAll(graceMs = 3_000): Promise<void> {
    const c = this.cluster;
    const running = c.ids.filter((id) => c.isRunning(id));
    for (const id of running) this.expectedExits.add(id);
    await Promise.all(
      running.map(async (id) => {
        const grace = sleep(graceMs, 'late' as const);
        if ((await Promise.race([c.kill(id, 'SIGTERM').then(() => 'exited' as const), grace])) === 'late') {
          this.stuck.push(id);
          await c.kill(id, 'SIGKILL');
        }
      }),
    );
  }

  /** Resolves once `predicate` holds (checked now and after every record); bounded. */
  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        this.conditions.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.conditions.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.why()}`));
      }, timeoutMs);
      this.conditions.add(check);
      check();
    });
  }

  why(): string {
    return this.unexpected ? ` (${this.unexpected})` : '';
  }

  /**
   * Waits until the cluster agrees: every running node names the same leader in the same term in
   * its log, and /healthz confirms it (that node leads, everybody else follows it). Returns that
   * leader, which is not always the first one elected: a node stalled past an election timeout
   * (a busy boot on a small machine) can be replaced.
   */
  async settle(timeoutMs = 10_000): Promise<{ leader: string; term: number }> {
    const c = this.cluster;
    const running = () => c.ids.filter((id) => c.isRunning(id));
    const agreed = (): View | null => {
      const views = running().map((id) => this.views.get(id));
      const first = views[0];
      if (!first?.leader || !c.isRunning(first.leader)) return null;
      return views.every((v) => v?.leader === first.leader && v.term === first.term) ? first : null;
    };
    const deadline = performance.now() + timeoutMs;
    let last = '';
    while (performance.now() < deadline) {
      try {
        await this.until(() => agreed() !== null, deadline - performance.now(), 'the nodes to agree');
      } catch {
        break;
      }
      const view = agreed();
      try {
        const states = await Promise.all(running().map((id) => c.healthz(id)));
        const ok = states.every(
          (s) =>
            s.leader === view?.leader &&
            s.term === view.term &&
            (s.role === 'leader') === (s.id === view.leader),
        );
        if (ok && view?.leader) return { leader: view.leader, term: view.term };
        last = JSON.stringify(states.map((s) => [s.id, s.role, s.term, s.leader]));
      } catch (error) {
        // A pooled connection to a node killed a moment ago, say: ask again.
        last = (error as Error).message;
      }
      await sleep(20);
    }
    throw new Error(
      `the cluster did not settle within ${timeoutMs} ms${this.why()}; logs say ` +
        `${JSON.stringify(Object.fromEntries(this.views))}; /healthz said ${last || 'nothing yet'}`,
    );
  }
}

let portSlot = 0;
/** Fresh ports for every cluster: HTTP from base + 20k, UDP from base + 20k + 10. */
function nextPort(): number {
  const port = basePort + (portSlot % 50) * 20;
  portSlot++;
  return port;
}

const live = new Set<Observed>();
const root = mkdtempSync(join(tmpdir(), 'ensemble-bench-'));

/** The shared PostgreSQL that nodes need to boot; each cluster gets a database of its own. */
let pg: TestPostgres | null = null;

async function observed(size: number, label: string): Promise<Observed> {
  const dataRoot = join(root, label);
  mkdirSync(dataRoot, { recursive: true });
  pg ??= await startTestPostgres();
  const databaseUrl = await pg.createDatabase('bench');
  const o = new Observed(size, dataRoot, databaseUrl, nextPort());
  live.add(o);
  return o;
}

let stuckStops = 0;

async function retire(o: Observed): Promise<void> {
  await o.stopAll();
  stuckStops += o.stuck.length;
  live.delete(o);
}

interface StartupSample {
  fromSpawn: number;
  fromElectionStarted: number;
  /** The same interval from the children's own `time` fields (ms resolution), as a check. */
  fromElectionStartedByTime: number;
  /** Leaders elected after the first one before the cluster settled. */
  churn: number;
  replaced: boolean;
}

async function startup(size: number, run: number): Promise<StartupSample> {
  const o = await observed(size, `startup-${size}-${run}`);
  try {
    const elected = o.cluster.waitForLeader(0, 60_000); // boots are slow on a loaded machine
    const t0 = performance.now();
    o.startAll();
    const r = await elected.catch((e: Error) => Promise.reject(new Error(`${e.message}${o.why()}`)));
    const firstStarted = o.records.find((x) => x.msg === 'election started');
    if (!firstStarted) throw new Error('a leader before any "election started" record');
    const sample = {
      fromSpawn: o.arrival(r) - t0,
      fromElectionStarted: o.arrival(r) - o.arrival(firstStarted),
      fromElectionStartedByTime: Date.parse(r.time as string) - Date.parse(firstStarted.time as string),
    };
    const settled = await o.settle(20_000);
    const leaders = o.records.filter((x) => x.to === 'leader').length;
    return { ...sample, churn: leaders - 1, replaced: settled.leader !== r.node || settled.term !== r.term };
  } finally {
    await retire(o);
  }
}

interface FailoverSample {
  total: number;
  /** Kill → first survivor's 'pre-candidate' transition (its election timeout ran out). */
  detect: number;
  /** That transition → the new leader's record (PreVote round, vote round, fsyncs). */
  elect: number;
  /** Survivors that started a pre-vote during the failover (more than 1: they raced). */
  campaigners: number;
  /** Whether some survivor had to start a second pre-vote (its first one got no quorum). */
  retried: boolean;
  termJump: number;
}

interface Failovers {
  readonly samples: FailoverSample[];
  /** Times the leader or term changed while nobody was being killed (a stalled node, say). */
  churn: number;
}

async function failovers(size: number): Promise<Failovers> {
  const o = await observed(size, `failover-${size}`);
  const c = o.cluster;
  const result: Failovers = { samples: [], churn: 0 };
  const nodeUp = (id: string) =>
    c.waitFor((x) => x.node === id && 'http' in x && 'udp' in x, 30_000, `${id} to boot`);
  try {
    const booted = Promise.all(c.ids.map(nodeUp));
    o.startAll();
    await booted;
    let { leader, term } = await o.settle();
    for (let k = 0; k < kills; k++) {
      // Kill at a random phase of the heartbeat: settling ends just after a heartbeat arrived.
      await sleep(200 + Math.random() * 2 * HEARTBEAT_MS);
      const now = await o.settle();
      if (now.leader !== leader || now.term !== term) result.churn++;
      ({ leader, term } = now);
      const next = c.waitForLeader(term, 10_000);
      next.catch(() => {}); // awaited below; do not let an early failure go unhandled
      const from = o.records.length;
      const t0 = performance.now();
      await o.kill(leader);
      const r = await next.catch((e: Error) => Promise.reject(new Error(`${e.message}${o.why()}`)));
      const t1 = o.arrival(r);
      const during = o.records.slice(from).filter((x) => o.arrival(x) <= t1);
      const preVotes = during.filter((x) => x.to === 'pre-candidate');
      const firstPre = preVotes[0];
      const detect = firstPre ? o.arrival(firstPre) - t0 : Number.NaN;
      const sample: FailoverSample = {
        total: t1 - t0,
        detect,
        elect: t1 - t0 - detect,
        campaigners: new Set(preVotes.map((x) => x.node)).size,
        retried: new Set(preVotes.map((x) => x.node)).size < preVotes.length,
        termJump: (r.term as number) - term,
      };
      result.samples.push(sample);
      if (args.trace && (sample.retried || sample.total > 2 * ELECTION_TIMEOUT.min)) {
        for (const x of during) {
          if (typeof x.to !== 'string' && !('candidate' in x) && !('leader' in x)) continue;
          process.stdout.write(
            `    +${(o.arrival(x) - t0).toFixed(1).padStart(6)} ms [${x.node}] ${x.msg}\n`,
          );
        }
      }
      const killed = leader;
      const up = nodeUp(killed);
      o.start(killed);
      await up;
      ({ leader, term } = await o.settle());
      if (leader !== r.node || term !== r.term) result.churn++;
      process.stdout.write(
        `  size ${size} kill ${String(k + 1).padStart(3)}/${kills}: ${killed} → ${r.node} (term ${r.term}) in ${(t1 - t0).toFixed(1)} ms\n`,
      );
    }
    return result;
  } finally {
    await retire(o);
  }
}

/** etcd beside the 3-node failovers (null when etcd-server is not installed: said once). */
async function etcdFailovers(): Promise<EtcdFailover[] | null> {
  const missing = etcdMissing();
  if (missing) {
    console.log(missing);
    return null;
  }
  const etcd = await startEtcdBench({ basePort: basePort + 1_000, withPut: false });
  try {
    const samples: EtcdFailover[] = [];
    for (let k = 0; k < kills; k++) {
      const f = await etcd.failover(k);
      samples.push(f);
      process.stdout.write(
        `  etcd kill ${String(k + 1).padStart(3)}/${kills}: new leader in ${f.leader.toFixed(0)} ms${f.termJump > 1 ? ` (term +${f.termJump})` : ''}\n`,
      );
    }
    return samples;
  } finally {
    await etcd.stop();
  }
}

interface Row {
  size: number;
  what: string;
  s: Summary;
}

function printRows(rows: readonly Row[]): void {
  const min = ELECTION_TIMEOUT.min;
  console.log(
    `\nsize  measurement                               n    min    p50    p90    p99    max   p50/${min}  p99/${min}`,
  );
  for (const { size, what, s } of rows) {
    console.log(
      `${String(size).padStart(4)}  ${what.padEnd(38)} ${String(s.n).padStart(4)}  ${ms(s.min)}  ${ms(s.p50)}  ${ms(s.p90)}  ${ms(s.p99)}  ${ms(s.max)}   ${(s.p50 / min).toFixed(2).padStart(6)}   ${(s.p99 / min).toFixed(2).padStart(6)}`,
    );
  }
}

async function main(): Promise<number> {
  console.log(
    `election benchmark: sizes ${sizes.join(',')}, ${runs} start-ups and ${kills} kills per size, ` +
      `election timeout ${ELECTION_TIMEOUT.min}-${ELECTION_TIMEOUT.max} ms, heartbeat ${HEARTBEAT_MS} ms, leader probes ${LEADER_PROBE}, ` +
      `Node ${process.version}`,
  );
  const rows: Row[] = [];
  const verdicts: string[] = [];
  for (const size of sizes) {
    const ups: StartupSample[] = [];
    for (let run = 0; run < runs; run++) {
      const s = await startup(size, run);
      ups.push(s);
      process.stdout.write(
        `  size ${size} start-up ${String(run + 1).padStart(3)}/${runs}: ${s.fromSpawn.toFixed(1)} ms from spawn, ` +
          `${s.fromElectionStarted.toFixed(1)} ms from 'election started'\n`,
      );
    }
    const { samples: fo, churn } = await failovers(size);
    const sizeRows: Row[] = [
      { size, what: 'start-up: spawn → leader', s: summarize(ups.map((u) => u.fromSpawn)) },
      {
        size,
        what: "start-up: 'election started' → leader",
        s: summarize(ups.map((u) => u.fromElectionStarted)),
      },
      {
        size,
        what: '  (same, from the logs’ `time`)',
        s: summarize(ups.map((u) => u.fromElectionStartedByTime)),
      },
      { size, what: 'failover: kill → new leader', s: summarize(fo.map((f) => f.total)) },
      { size, what: '  of which: kill → 1st pre-vote', s: summarize(fo.map((f) => f.detect)) },
      { size, what: '  of which: 1st pre-vote → leader', s: summarize(fo.map((f) => f.elect)) },
    ];
    const etcd = size === 3 ? await etcdFailovers() : null;
    if (etcd) {
      const e = summarize(etcd.map((f) => f.leader));
      sizeRows.push({ size, what: 'etcd 3.4: kill → new leader', s: e });
      const own = summarize(fo.map((f) => f.total));
      verdicts.push(
        `size 3: ensemble ÷ etcd, kill → new leader: p50 ${(own.p50 / e.p50).toFixed(2)}, p99 ${(own.p99 / e.p99).toFixed(2)} ` +
          `(etcd split votes: ${etcd.filter((f) => f.termJump > 1).length}/${etcd.length})`,
      );
    }
    printRows(sizeRows);
    rows.push(...sizeRows);
    const raced = fo.filter((f) => f.campaigners > 1).length;
    const retried = fo.filter((f) => f.retried).length;
    const jumps = fo.filter((f) => f.termJump > 1).length;
    console.log(
      `      failovers: ${raced}/${fo.length} had several survivors campaigning, ` +
        `${retried}/${fo.length} needed a second pre-vote from the same node, ` +
        `${jumps}/${fo.length} moved the term by more than one (a split vote); ` +
        `${churn} leader change(s) without a kill`,
    );
    const churned = ups.filter((u) => u.churn > 0).length;
    console.log(
      `      start-ups: ${churned}/${ups.length} elected another leader before settling ` +
        `(${ups.filter((u) => u.replaced).length} settled on a leader other than the first)`,
    );
    const s = summarize(fo.map((f) => f.total));
    const min = ELECTION_TIMEOUT.min;
    const p50ok = s.p50 <= TARGET_P50 * min;
    const p99ok = s.p99 <= TARGET_P99 * min;
    verdicts.push(
      `size ${size}: failover p50 ${s.p50.toFixed(0)} ms (${(s.p50 / min).toFixed(2)}×, target ≤ ${TARGET_P50}×) ${p50ok ? 'PASS' : 'MISS'}; ` +
        `p99 ${s.p99.toFixed(0)} ms (${(s.p99 / min).toFixed(2)}×, target ≤ ${TARGET_P99}×) ${p99ok ? 'PASS' : 'MISS'}`,
    );
  }
  console.log('\nall sizes:');
  printRows(rows);
  console.log('');
  for (const v of verdicts) console.log(v);
  if (stuckStops > 0) console.log(`warning: ${stuckStops} node(s) ignored SIGTERM for 3 s and were killed`);
  return 0;
}

async function cleanup(): Promise<void> {
  await Promise.allSettled([...live].map((o) => o.stopAll()));
  live.clear();
  await pg?.stop().catch((e: Error) => console.error(`cannot stop PostgreSQL: ${e.message}`));
  pg = null;
  rmSync(root, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`election benchmark failed: ${(error as Error).stack ?? error}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
