/**
 * `npm run bench:gateway`: GraphQL requests per second through the gateway against the same
 * requests sent straight to the leader, in the same run, on the same cluster: a read (`task`
 * by id) and a write (`createTask`), with `--clients` concurrent clients for `--seconds` each.
 *
 * Fair by construction: one client (bench/http-client.ts) and one concurrency for both sides;
 * both sides byte-identical requests (each write carries its own `Idempotency-Key`, so the
 * leader does the same work whichever way it came — without one the gateway would add a key
 * and the leader an idempotency lookup that the direct side skips); a warm-up of each side
 * before anything is measured; `--rounds` pairs that alternate which side goes first
 * (direct-gateway, gateway-direct, …) so that drift — a growing table, other load on the
 * machine — hits both alike. The ratio is gateway ÷ direct over all rounds (target ≥ 0.8), the
 * per-round ratios are printed beside it, and so is the CPU time each process spent per request
 * (from /proc), which stays put when the machine's other load moves requests per second.
 * Reads also get a reference run straight to all nodes in turn, as the gateway spreads them: it
 * tells the cost of the hop from the cost of spreading reads over three nodes on shared cores.
 */

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { IDEMPOTENCY_KEY_HEADER } from '../common/http-headers.js';
import type {
  BenchCreateTaskMutationVariables,
  BenchSeedTaskMutation,
  BenchTaskQueryVariables,
} from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { postJson } from './http-client.js';
import { cpuMs, postgresPids } from './proc-cpu.js';
import { ms, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    clients: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '4' },
    'warmup-seconds': { type: 'string', default: '2' },
    'base-port': { type: 'string', default: '25000' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const warmupSeconds = Number(values['warmup-seconds']);
const TARGET = 0.8;
/** A run whose direct leader was deposed midway is run again, at most this many times. */
const MAX_REDOS = 3;

interface Run {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU ms per request, by process group. */
  readonly cpu: Record<string, number>;
}

class FailedRun extends Error {}

const bench = await startBenchCluster(Number(values['base-port']));
try {
  /** CPU ms so far by process group; PostgreSQL by server process, as backends come and go. */
  const cpuGroups = (): Record<string, number | Map<number, number>> => {
    const nodes = bench.cluster.ids.map((id) => bench.cluster.pid(id) ?? 0);
    const self = process.cpuUsage();
    return {
      client: (self.user + self.system) / 1000,
      gateway: cpuMs(bench.gateway.pid ?? 0),
      nodes: nodes.reduce((s, pid) => s + cpuMs(pid), 0),
      postgres: new Map(postgresPids(bench.postgresPort).map((pid) => [pid, cpuMs(pid)])),
    };
  };
  /** CPU ms between two readings (a backend that ended in between is not counted). */
  const cpuSpent = (before: ReturnType<typeof cpuGroups>, after: ReturnType<typeof cpuGroups>) =>
    Object.fromEntries(
      Object.entries(after).map(([k, v]) => {
        const was = before[k];
        if (typeof v === 'number') return [k, v - (was as number)];
        let spent = 0;
        for (const [pid, ms] of v) spent += ms - ((was as Map<number, number>).get(pid) ?? 0);
        return [k, spent];
      }),
    );

  async function measure(
    /** One base URL, or several taken in turn request by request. */
    url: string | readonly string[],
    body: () => string,
    headers: () => Record<string, string>,
    forSeconds: number,
  ): Promise<Run> {
    const deadline = performance.now() + forSeconds * 1000;
    const latencies: number[] = [];
    let errors = 0;
    let firstError = '';
    const urls = typeof url === 'string' ? [`${url}/graphql`] : url.map((u) => `${u}/graphql`);
    let turn = 0;
    const before = cpuGroups();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          const res = await postJson(urls[turn++ % urls.length] as string, body(), headers());
          latencies.push(performance.now() - t);
          if (res.status !== 200 || res.text.includes('"errors"')) {
            errors++;
            firstError ||= `HTTP ${res.status}: ${res.text.slice(0, 300)}`;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const after = cpuGroups();
    if (errors > 0)
      throw new FailedRun(`${errors} of ${latencies.length} requests failed; first: ${firstError}`);
    const latency = summarize(latencies);
    const cpu = Object.fromEntries(
      Object.entries(cpuSpent(before, after)).map(([k, v]) => [k, v / latencies.length]),
    );
    return {
      requests: latencies.length,
      rps: latencies.length / elapsed,
      p50: latency.p50,
      p99: latency.p99,
      cpu,
    };
  }

  /** A measured run against the leader as it is now; again when the leader changed during it. */
  async function measureDirect(body: () => string, headers: () => Record<string, string>, s: number) {
    for (let attempt = 0; ; attempt++) {
      const leader = await bench.leader();
      try {
        return await measure(leader.url, body, headers, s);
      } catch (error) {
        const now = await bench.leader();
        if (!(error instanceof FailedRun) || now.term === leader.term || attempt >= MAX_REDOS) throw error;
        console.log(`  (leader changed during a direct run: term ${leader.term} → ${now.term}; run again)`);
      }
    }
  }

  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  const seed = await postJson(
    `${(await bench.leader()).url}/graphql`,
    JSON.stringify({
      query: graphql(`mutation BenchSeedTask { createTask(input: { title: "bench" }) { id } }`),
    }),
    auth,
  );
  const id = (JSON.parse(seed.text) as { data: BenchSeedTaskMutation }).data.createTask.id;
  const read = () =>
    JSON.stringify({
      query: graphql(`query BenchTask($id: ID!) { task(id: $id) { id title status version } }`),
      variables: { id } satisfies BenchTaskQueryVariables,
    });
  let n = 0;
  const write = () =>
    JSON.stringify({
      query: graphql(
        `mutation BenchCreateTask($t: String!) { createTask(input: { title: $t }) { id version } }`,
      ),
      variables: { t: `bench ${n++}` } satisfies BenchCreateTaskMutationVariables,
    });
  const nodeUrls = bench.cluster.ids.map((id) => `http://127.0.0.1:${bench.cluster.httpPort(id)}`);
  const noHeaders = () => ({});
  const writeHeaders = () => ({ ...auth, [IDEMPOTENCY_KEY_HEADER]: randomUUID() });

  console.log(
    `\ngateway vs direct to the leader: ${clients} clients, ${seconds} s per run, ${rounds} rounds (alternating which side goes first), ${warmupSeconds} s warm-up per side, 3 nodes + gateway on one machine`,
  );
  const summaries: string[] = [];
  for (const [name, body, headers] of [
    ['query', read, noHeaders],
    ['mutation', write, writeHeaders],
  ] as const) {
    if (warmupSeconds > 0) {
      await measureDirect(body, headers, warmupSeconds);
      await measure(bench.gatewayUrl, body, headers, warmupSeconds);
    }
    const direct: Run[] = [];
    const viaGateway: Run[] = [];
    // Reads only: the same reads sent straight to every node in turn, as the gateway spreads
    // them — a reference that separates the cost of the extra hop from that of spreading.
    const spread: Run[] = [];
    const spreadToo = name === 'query';
    for (let r = 0; r < rounds; r++) {
      const gatewayFirst = r % 2 === 1;
      if (gatewayFirst && spreadToo) spread.push(await measure(nodeUrls, body, headers, seconds));
      if (gatewayFirst) viaGateway.push(await measure(bench.gatewayUrl, body, headers, seconds));
      direct.push(await measureDirect(body, headers, seconds));
      if (!gatewayFirst) viaGateway.push(await measure(bench.gatewayUrl, body, headers, seconds));
      if (!gatewayFirst && spreadToo) spread.push(await measure(nodeUrls, body, headers, seconds));
      const d = direct[r] as Run;
      const g = viaGateway[r] as Run;
      const sp = spread[r];
      console.log(
        `  ${name} round ${r + 1} (${gatewayFirst ? 'gateway first' : 'direct first'}): direct ${d.rps.toFixed(0)} req/s, gateway ${g.rps.toFixed(0)} req/s, ratio ${(g.rps / d.rps).toFixed(2)}${sp ? `; direct to all nodes in turn ${sp.rps.toFixed(0)} req/s` : ''}`,
      );
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rps = (runs: Run[]) => avg(runs.map((x) => x.rps));
    const ratio = rps(viaGateway) / rps(direct);
    const lat = (runs: Run[]) => `${ms(avg(runs.map((x) => x.p50)))} / ${ms(avg(runs.map((x) => x.p99)))}`;
    /** CPU per request, weighted by requests over all rounds. */
    const cpu = (runs: Run[]) => {
      const total = runs.reduce((s, x) => s + x.requests, 0);
      const of = (k: string) => runs.reduce((s, x) => s + (x.cpu[k] ?? 0) * x.requests, 0) / total;
      return ['client', 'gateway', 'nodes', 'postgres']
        .map((k) => `${k} ${(of(k) * 1000).toFixed(0)}`)
        .join(', ');
    };
    summaries.push(
      `${name.padEnd(12)} ${rps(direct).toFixed(0).padStart(12)} ${rps(viaGateway).toFixed(0).padStart(15)} ${ratio.toFixed(2).padStart(7)}   ${lat(direct).padStart(17)}   ${lat(viaGateway).padStart(18)}   ${ratio >= TARGET ? 'target met' : `target ${TARGET} NOT met`}`,
      `  CPU µs per request, direct:  ${cpu(direct)}`,
      `  CPU µs per request, gateway: ${cpu(viaGateway)}`,
    );
    if (spread.length > 0) {
      summaries.push(
        `  reference, the same reads straight to all nodes in turn (no gateway): ${rps(spread).toFixed(0)} req/s, p50/p99 ${lat(spread).trim()} ms; gateway ÷ this ${(rps(viaGateway) / rps(spread)).toFixed(2)}`,
        `  CPU µs per request, all nodes in turn: ${cpu(spread)}`,
      );
    }
  }
  console.log(
    '\noperation     direct req/s   gateway req/s   ratio   direct p50/p99 ms   gateway p50/p99 ms',
  );
  for (const line of summaries) console.log(line);
} finally {
  await bench.stop();
}
