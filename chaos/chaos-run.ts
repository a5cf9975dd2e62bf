/**
 * One chaos run: real PostgreSQL, RabbitMQ, a gateway and three nodes, each node on its own host
 * (network namespace); clients and a queue publisher working through the gateway while the
 * nemesis injects faults from a seed; then everything healed, the queue drained, the event table
 * read, and the history judged (checker.ts). Used by `npm run chaos` and by the bounded test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { LISTINGS_QUEUE } from '../gateway/queue/listings-consumer.js';
import type { LocalCluster, LogRecord } from '../launcher/local-cluster.js';
import type { PatroniCluster } from '../launcher/patroni-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import { Prng } from '../nodes/election/simulation/prng.js';
import { primaryLocator } from '../nodes/store/primary-locator.js';
import {
  gatewayCluster,
  gatewayProcess,
  startGateway as startStackGateway,
} from '../test-support/gateway-stack.js';
import { startTestPatroni } from '../test-support/patroni.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';
import { type CheckResult, check } from './checker.js';
import type { EventRow, FaultKind, History } from './history.js';
import { DATABASE_FAULT_KINDS, FAULT_KINDS, Nemesis } from './nemesis.js';
import { forwardTcp, type TcpForward } from './tcp-forward.js';
import { TestNetwork, testNetworkUnavailable } from './test-network.js';
import { ListingPublisher, TaskClients } from './workload.js';

export interface ChaosOptions {
  readonly seed: number;
  /** Faults to inject (each kind once first, then seeded picks)… */
  readonly faults?: number;
  /** …or keep injecting until this much time has passed. */
  readonly durationMs?: number;
  readonly kinds?: readonly FaultKind[];
  /**
   * `patroni`: PostgreSQL as a two-member Patroni cluster (synchronous mode) reached through the
   * multi-host URL, and the database faults join the kinds. Default: one embedded PostgreSQL.
   */
  readonly database?: 'embedded' | 'patroni';
  readonly clients?: number;
  /** A heal must be followed by an acknowledged write within this bound. */
  readonly recoveryBoundMs?: number;
  /** First port: the gateway; nodes use the next ones. */
  readonly basePort?: number;
  /** 10.<net>.0.0/24 and the interface prefix: two runs at once need different ones. */
  readonly net?: number;
  readonly prefix?: string;
  /** Where a failed run leaves its history (default: a temporary directory). */
  readonly outDir?: string;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly operations: {
    readonly total: number;
    readonly ok: number;
    readonly error: number;
    readonly unknown: number;
    /** The last answer of each operation not acknowledged, by code. */
    readonly codes: Readonly<Record<string, number>>;
  };
  readonly messages: { readonly total: number; readonly confirmed: number };
  readonly events: number;
  readonly faults: ReadonlyMap<FaultKind, number>;
  readonly recoveryMs: { readonly p50: number; readonly max: number };
  /**
   * Per kind, the longest time without any client write acknowledged, from a fault's start to
   * its recovery: how long clients could not write while it lasted.
   */
  readonly writeGapMs: ReadonlyMap<FaultKind, number>;
  readonly results: readonly CheckResult[];
  readonly violations: number;
  /** The saved history when something was violated. */
  readonly historyFile?: string;
}

const TOKEN = 'chaos-token-0123456789abcdef';
const SECRET = 'chaos-secret-0123456789abcdef';

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const why = await testNetworkUnavailable();
  if (why) throw new Error(`the chaos suite cannot run here: ${why}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`[chaos] ${line}\n`));
  const random = new Prng(options.seed);
  const basePort = options.basePort ?? 15_300;
  const recoveryBoundMs = options.recoveryBoundMs ?? 10_000;
  const runId = `chaos ${options.seed}`;
  const history: History = { seed: options.seed, operations: [], messages: [], faults: [], transitions: [] };
  const network = new TestNetwork(options.prefix ?? 'ensch', ['n1', 'n2', 'n3'], options.net ?? 231);
  const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-chaos-'));
  let postgres: TestPostgres | undefined;
  let patroni: PatroniCluster | undefined;
  const forwards: TcpForward[] = [];
  let rabbit: TestRabbitmq | undefined;
  let gateway: ServiceProcess | undefined;
  let cluster: LocalCluster | undefined;
  const started = Date.now();
  try {
    await network.create();
    let databaseUrl: string;
    if (options.database === 'patroni') {
      [patroni, rabbit] = await Promise.all([startTestPatroni({ database: 'chaos' }), startTestRabbitmq()]);
      databaseUrl = patroni.url;
      // The members listen on loopback; the nodes reach them through the bridge.
      for (const memberUrl of Object.values(patroni.memberUrls))
        forwards.push(await forwardTcp(network.hostAddress, Number(new URL(memberUrl).port)));
    } else {
      [postgres, rabbit] = await Promise.all([
        startTestPostgres({ alsoListenOn: network.hostAddress }),
        startTestRabbitmq(),
      ]);
      databaseUrl = await postgres.createDatabase('chaos');
    }
    const gatewayUrl = `http://${network.hostAddress}:${basePort}`;
    // The stack of the gateway's process tests, on the test network's addresses.
    const stack = { basePort, secret: SECRET, apiToken: TOKEN };
    cluster = gatewayCluster(stack, {
      dataRoot: join(dataDir, 'nodes'),
      databaseUrl: databaseUrl.replaceAll('127.0.0.1:', `${network.hostAddress}:`),
      gatewayUrl,
      hostOf: (id) => network.address(id),
      launcherOf: (id) => network.launcher(id),
      onRecord: (r: LogRecord) => {
        if (typeof r.to === 'string' && typeof r.from === 'string' && typeof r.term === 'number')
          history.transitions.push({
            node: r.node,
            term: r.term,
            from: r.from,
            to: r.to,
            at: typeof r.time === 'number' ? r.time : Date.parse(String(r.time)),
          });
        if (r.level >= 50) log(`${r.node}: ${r.msg}${r.err ? ` ${JSON.stringify(r.err)}` : ''}`);
      },
      onText: (node, line) => log(`${node}: ${line}`),
    });
    const gw = gatewayProcess(stack, {
      env: {
        GATEWAY_URL: gatewayUrl,
        NODE_URLS: cluster.ids.map((id) => cluster?.url(id)).join(','),
        RABBITMQ_URL: rabbit.url,
        DATA_DIR: join(dataDir, 'gateway'),
      },
      onRecord: (r: ServiceRecord) => {
        if (r.level >= 50) log(`gateway: ${r.msg}${r.err ? ` ${JSON.stringify(r.err)}` : ''}`);
      },
      onText: (line) => log(`gateway: ${line}`),
    });
    gateway = gw;
    const startGateway = () => startStackGateway(gw);
    await startGateway();
    cluster.startAll();
    await cluster.waitForReady();
    await cluster.waitForAgreement(30_000);

    const clientOptions = { gatewayUrl, token: TOKEN, requestTimeoutMs: 15_000 };
    const clients = new TaskClients({
      ...clientOptions,
      clients: options.clients ?? 4,
      random,
      runId,
      operations: history.operations,
    });
    let probes = 0;
    if (!(await clients.probe(probes++, Date.now() + 30_000)))
      throw new Error('no write acknowledged at start');
    const publisher = new ListingPublisher({
      url: rabbit.url,
      queue: LISTINGS_QUEUE,
      runId,
      intervalMs: 20,
      messages: history.messages,
    });
    clients.start();
    publisher.start();

    const nemesis = new Nemesis({
      cluster,
      network,
      rabbit,
      ...(patroni ? { database: patroni } : {}),
      gateway: gw,
      startGateway,
      probe: (deadline) => clients.probe(probes++, deadline),
      random,
      faults: history.faults,
      holdMs: [800, 2_500],
      giveUpMs: Math.max(recoveryBoundMs * 3, 30_000),
      log,
    });
    const kinds = options.kinds ?? (patroni ? [...FAULT_KINDS, ...DATABASE_FAULT_KINDS] : FAULT_KINDS);
    if (options.durationMs !== undefined) {
      const deadline = started + options.durationMs;
      for (const kind of nemesis.plan(kinds.length, kinds)) {
        await nemesis.inject(kind);
        if (Date.now() > deadline) break;
      }
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, random.int(300, 1_000)));
        await nemesis.inject(random.pick(kinds));
      }
    } else {
      for (const kind of nemesis.plan(options.faults ?? kinds.length, kinds)) {
        await nemesis.inject(kind);
        await new Promise((r) => setTimeout(r, random.int(300, 1_000)));
      }
    }

    log('healing: stopping the workload, draining the queue');
    await network.heal();
    await Promise.all([clients.stop(), publisher.stop()]);
    // On whichever member is the primary now (pg itself takes one host only).
    const db = await primaryLocator(databaseUrl).connect();
    try {
      await drained(db, history, 120_000);
      const events = await readEvents(db);
      const results = check(history, events, { recoveryBoundMs });
      const report = summarize(history, events, results, Date.now() - started);
      if (report.violations === 0) return report;
      const dir = options.outDir ?? mkdtempSync(join(tmpdir(), 'ensemble-chaos-failed-'));
      mkdirSync(dir, { recursive: true });
      const historyFile = join(dir, `chaos-${options.seed}.json`);
      writeFileSync(historyFile, JSON.stringify({ history, events, results }, null, 1));
      return { ...report, historyFile };
    } finally {
      await db.end();
    }
  } finally {
    await gateway?.stop().catch(() => {});
    await cluster?.stopAll().catch(() => {});
    await Promise.all(forwards.map((f) => f.stop()));
    await Promise.all([postgres?.stop(), patroni?.stop(), rabbit?.stop()].map((p) => p?.catch(() => {})));
    await network.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Wait until every confirmed message's listing is in the log (the consumer acks after storing). */
async function drained(db: pg.Client, history: History, timeoutMs: number): Promise<void> {
  const wanted = history.messages.filter((m) => m.outcome === 'ok').map((m) => m.url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `select count(distinct data ->> 'url') as n from event
        where type = 'ListingAdded' and data ->> 'url' = any($1::text[])`,
      [wanted],
    );
    if (Number(rows[0]?.n) >= wanted.length || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function readEvents(db: pg.Client): Promise<EventRow[]> {
  const { rows } = await db.query<{
    position: string;
    stream: string;
    version: number;
    type: string;
    data: Record<string, unknown>;
    term: string;
    node_id: string;
  }>('select position, stream, version, type, data, term, node_id from event order by position');
  return rows.map((r) => ({
    position: Number(r.position),
    stream: r.stream,
    version: r.version,
    type: r.type,
    data: r.data,
    term: Number(r.term),
    nodeId: r.node_id,
  }));
}

function summarize(
  history: History,
  events: readonly EventRow[],
  results: readonly CheckResult[],
  durationMs: number,
): ChaosReport {
  const ops = history.operations;
  const count = (o: string) => ops.filter((op) => op.outcome === o).length;
  const codes: Record<string, number> = {};
  for (const op of ops) if (op.outcome !== 'ok') codes[op.code ?? '?'] = (codes[op.code ?? '?'] ?? 0) + 1;
  const faults = new Map<FaultKind, number>();
  for (const f of history.faults) faults.set(f.kind, (faults.get(f.kind) ?? 0) + 1);
  const recoveries = history.faults
    .map((f) => f.recoveryMs)
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);
  return {
    seed: history.seed,
    durationMs,
    operations: {
      total: ops.length,
      ok: count('ok'),
      error: count('error'),
      unknown: count('unknown'),
      codes,
    },
    messages: {
      total: history.messages.length,
      confirmed: history.messages.filter((m) => m.outcome === 'ok').length,
    },
    events: events.length,
    faults,
    recoveryMs: {
      p50: recoveries[Math.floor(recoveries.length / 2)] ?? 0,
      max: recoveries.at(-1) ?? 0,
    },
    writeGapMs: writeGaps(history),
    results,
    violations: results.reduce((n, r) => n + r.violations.length, 0),
  };
}

function writeGaps(history: History): Map<FaultKind, number> {
  const acks = history.operations
    .filter((op) => op.outcome === 'ok' && op.endedAt !== undefined && op.client >= 0)
    .map((op) => op.endedAt as number)
    .sort((a, b) => a - b);
  const gaps = new Map<FaultKind, number>();
  for (const f of history.faults) {
    if (f.healedAt === undefined) continue;
    const end = f.healedAt + (f.recoveryMs ?? 0);
    let previous = f.startedAt;
    let longest = 0;
    for (const at of acks) {
      if (at <= f.startedAt) continue;
      longest = Math.max(longest, at - previous);
      previous = at;
      if (at >= end) break;
    }
    gaps.set(f.kind, Math.max(gaps.get(f.kind) ?? 0, longest));
  }
  return gaps;
}

/** The result table (markdown, for the console and the README). */
export function formatReport(r: ChaosReport): string {
  const lines = [
    `seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s`,
    '',
    '| | |',
    '| --- | --- |',
    `| client operations | ${r.operations.total} (${r.operations.ok} ok, ${r.operations.error} refused, ${r.operations.unknown} unknown${
      Object.keys(r.operations.codes).length > 0
        ? `: ${Object.entries(r.operations.codes)
            .map(([code, n]) => `${code} × ${n}`)
            .join(', ')}`
        : ''
    }) |`,
    `| queue messages | ${r.messages.total} published, ${r.messages.confirmed} confirmed |`,
    `| events in the log | ${r.events} |`,
    `| faults injected | ${[...r.faults].map(([k, n]) => `${k} × ${n}`).join(', ')} |`,
    `| recovery after a heal | p50 ${r.recoveryMs.p50} ms, max ${r.recoveryMs.max} ms |`,
    `| longest time without an acknowledged write, per fault kind | ${[...r.writeGapMs].map(([k, ms]) => `${k} ${ms} ms`).join(', ')} |`,
    '',
    '| check | checked | violations |',
    '| --- | --- | --- |',
    ...r.results.map((c) => `| ${c.name} | ${c.checked} | ${c.violations.length} |`),
  ];
  for (const c of r.results) for (const v of c.violations.slice(0, 20)) lines.push(`✗ ${c.name}: ${v}`);
  if (r.historyFile) lines.push('', `history saved to ${r.historyFile}; replay with --seed ${r.seed}`);
  return lines.join('\n');
}
