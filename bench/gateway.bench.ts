/**
 * `npm run bench:gateway`: GraphQL requests per second through the gateway against the same
 * requests sent straight to the leader, in the same run, on the same cluster: a read (`task`
 * by id) and a write (`createTask`), with `--clients` concurrent clients for `--seconds` each.
 * Direct and gateway runs alternate (`--rounds` times) so that drift hits both alike; the ratio
 * is gateway ÷ direct (target ≥ 0.8).
 */
import { parseArgs } from 'node:util';
import type {
  BenchCreateTaskMutationVariables,
  BenchSeedTaskMutation,
  BenchTaskQueryVariables,
} from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { postJson } from './http-client.js';
import { ms, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    clients: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    'base-port': { type: 'string', default: '25000' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const TARGET = 0.8;

async function measure(url: string, body: () => string, headers: Record<string, string>) {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const res = await postJson(`${url}/graphql`, body(), headers);
        latencies.push(performance.now() - t);
        if (res.status !== 200 || res.text.includes('"errors"')) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (errors > 0) throw new Error(`${errors} requests failed`);
  return { rps: latencies.length / elapsed, latency: summarize(latencies) };
}

const bench = await startBenchCluster(Number(values['base-port']));
try {
  const leader = await bench.leader();
  const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
  const seed = await postJson(
    `${leader.url}/graphql`,
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

  console.log(
    `\ngateway vs direct to the leader: ${clients} clients, ${seconds} s per run, ${rounds} rounds, 3 nodes + gateway on one machine`,
  );
  console.log('operation     direct req/s   gateway req/s   ratio   direct p50/p99 ms   gateway p50/p99 ms');
  for (const [name, body, headers] of [
    ['query', read, {}],
    ['mutation', write, auth],
  ] as const) {
    const direct: number[] = [];
    const viaGateway: number[] = [];
    const dl: number[][] = [];
    const gl: number[][] = [];
    for (let r = 0; r < rounds; r++) {
      const d = await measure(leader.url, body, headers);
      const g = await measure(bench.gatewayUrl, body, headers);
      direct.push(d.rps);
      viaGateway.push(g.rps);
      dl.push([d.latency.p50, d.latency.p99]);
      gl.push([g.latency.p50, g.latency.p99]);
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = avg(viaGateway) / avg(direct);
    const lat = (xs: number[][]) =>
      `${ms(avg(xs.map((x) => x[0] as number)))} / ${ms(avg(xs.map((x) => x[1] as number)))}`;
    console.log(
      `${name.padEnd(12)} ${avg(direct).toFixed(0).padStart(12)} ${avg(viaGateway).toFixed(0).padStart(15)} ${ratio.toFixed(2).padStart(7)}   ${lat(dl).padStart(17)}   ${lat(gl).padStart(18)}   ${ratio >= TARGET ? 'target met' : `target ${TARGET} NOT met`}`,
    );
  }
} finally {
  await bench.stop();
}
