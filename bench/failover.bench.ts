/**
 * `npm run bench:failover`: kill -9 the leader, and time until the first write through the
 * gateway succeeds (the write is sent at the kill; the gateway waits for the next announcement
 * and retries it with the same idempotency key). `--kills` times (≥ 30 for the figures), each
 * after the killed node is back and every node follows one leader. p50/p99 in ms, and as
 * multiples of the 150 ms minimum election timeout.
 */
import { parseArgs } from 'node:util';
import { BENCH_TOKEN, startBenchCluster } from './bench-cluster.js';
import { postJson } from './http-client.js';
import { ms, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '30' },
    'base-port': { type: 'string', default: '25100' },
  },
});
const kills = Number(values.kills);
const MIN_TIMEOUT_MS = 150;

const bench = await startBenchCluster(Number(values['base-port']));
const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
const write = (i: number) =>
  postJson(
    `${bench.gatewayUrl}/graphql`,
    JSON.stringify({
      query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
      variables: { t: `failover ${i}` },
    }),
    auth,
  );
try {
  const samples: number[] = [];
  for (let k = 0; k < kills; k++) {
    const { leader } = await bench.cluster.waitForAgreement(30_000);
    const known = await bench.leader();
    if (known.id !== leader) await bench.leader(known.term); // the gateway has caught up
    const started = performance.now();
    await bench.cluster.kill(leader);
    const res = await write(k);
    const elapsed = performance.now() - started;
    if (res.status !== 200 || res.text.includes('"errors"'))
      throw new Error(`write after kill ${k} failed: ${res.text}`);
    samples.push(elapsed);
    const back = bench.cluster.waitForReady([leader]);
    bench.cluster.start(leader);
    await back;
  }
  const s = summarize(samples);
  console.log(
    `\nfailover through the gateway: kill -9 the leader → first successful write (${kills} kills, 3 nodes)`,
  );
  console.log('           p50     p90     p99     max   (ms)');
  console.log(`        ${ms(s.p50)}   ${ms(s.p90)}   ${ms(s.p99)}   ${ms(s.max)}`);
  console.log(
    `× 150 ms  ${(s.p50 / MIN_TIMEOUT_MS).toFixed(2)}    ${(s.p90 / MIN_TIMEOUT_MS).toFixed(2)}    ${(s.p99 / MIN_TIMEOUT_MS).toFixed(2)}    ${(s.max / MIN_TIMEOUT_MS).toFixed(2)}`,
  );
} finally {
  await bench.stop();
}
