/**
 * `npm run bench:ingest`: listings per second from the RabbitMQ queue into the event log (the
 * gateway's consumer: validate, upsert on the leader keyed by messageId, ack) against a raw
 * amqplib consumer that only acks, same broker, same messages, same prefetch (the gateway's
 * default), on the same running system: the cluster and the gateway are up for both sides, and
 * `--rounds` pairs alternate which side goes first, so that the machine's state and drift hit
 * both alike (as bench:gateway does). In each run `--messages` messages are published in one
 * burst to a consumer that is already running; the clock runs from the first publish to the last
 * ack (raw) or the last listing event (gateway). The ratio is gateway ÷ raw over all rounds (sum
 * of messages over sum of time, each side); CPU per message of each process group comes from
 * /proc: where the pipeline's cost goes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';
import { startRabbitmq } from '../launcher/rabbitmq-server.js';
import { freePort } from '../test-support/postgres.js';
import { startBenchCluster } from './bench-cluster.js';
import { cpuMs, postgresPids } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '4' },
    // The gateway's default QUEUE_PREFETCH; both sides use the same.
    prefetch: { type: 'string', default: '1000' },
    'base-port': { type: 'string', default: '25200' },
  },
});
const messages = Number(values.messages);
const prefetch = Number(values.prefetch);
const rounds = Number(values.rounds);
const TARGET = 0.5;

const listing = (run: string, i: number) =>
  Buffer.from(
    JSON.stringify({
      title: `Bench item ${i}`,
      url: `https://bench.example/${run}/${i}`,
      price: 1000 + i,
      currency: 'MDL',
      priceEur: Math.round(((1000 + i) / 19.5) * 100) / 100,
      scrapedAt: '2026-11-24T10:00:00Z',
    }),
  );

async function publish(channel: amqp.ConfirmChannel, queue: string, run: string): Promise<void> {
  for (let i = 0; i < messages; i++) {
    channel.sendToQueue(queue, listing(run, i), {
      persistent: true,
      messageId: `${run}-${i}`,
      contentType: 'application/json',
    });
  }
  await channel.waitForConfirms();
}

/** CPU ms spent so far by each process group, for CPU per message (listing) beside the rates. */
type CpuSnapshot = Record<string, number>;
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const mqPort = await freePort();
const mqDir = mkdtempSync(join(tmpdir(), 'ensemble-bench-mq-'));
// The broker's Erlang VM writes its OS pid there (launcher/rabbitmq-server.ts).
const brokerCpuMs = () => cpuMs(Number(readFileSync(join(mqDir, 'rabbitmq.pid'), 'utf8').trim()));
const mq = await startRabbitmq({
  dataDir: mqDir,
  port: mqPort,
  distPort: await freePort(),
  epmdPort: await freePort(),
});
const connection = await amqp.connect(mq.url);
const channel = await connection.createConfirmChannel();
try {
  const bench = await startBenchCluster(Number(values['base-port']), {
    RABBITMQ_URL: mq.url,
    QUEUE_PREFETCH: String(prefetch),
  });
  try {
    await channel.assertQueue('raw', { durable: true });
    await channel.assertQueue('listings', { durable: true });
    // Raw: consume and ack, nothing else (its consumer runs throughout, idle between runs).
    const consumer = await connection.createChannel();
    await consumer.prefetch(prefetch);
    let acked = 0;
    let rawDone: () => void = () => {};
    await consumer.consume('raw', (m) => {
      if (!m) return;
      consumer.ack(m);
      if (++acked % messages === 0) rawDone();
    });
    // The gateway's clock stops when its last listing is in the log. The bench reads the log's
    // head straight from PostgreSQL (one indexed read every 10 ms) so that watching adds no load
    // to the system it measures; nothing else writes meanwhile, so the head moves by one per
    // stored listing.
    const db = new pg.Client({ connectionString: bench.databaseUrl });
    await db.connect();
    const head = async () =>
      Number(
        (await db.query<{ head: string }>('select coalesce(max(position), 0) as head from event')).rows[0]
          ?.head,
      );
    const leader = await bench.leader();
    const rawCpu = (): CpuSnapshot => ({
      RabbitMQ: brokerCpuMs(),
      'bench (publisher, consumer)': selfCpuMs(),
    });
    const gwCpu = (): CpuSnapshot => ({
      RabbitMQ: brokerCpuMs(),
      gateway: cpuMs(bench.gateway.pid ?? 0),
      leader: cpuMs(bench.cluster.pid(leader.id) ?? 0),
      followers: bench.cluster.ids
        .filter((id) => id !== leader.id)
        .reduce((sum, id) => sum + cpuMs(bench.cluster.pid(id) ?? 0), 0),
      PostgreSQL: postgresPids(bench.postgresPort).reduce((sum, pid) => sum + cpuMs(pid), 0),
      'bench (publisher, watcher)': selfCpuMs(),
    });
    const add = (total: CpuSnapshot, before: CpuSnapshot, after: CpuSnapshot) => {
      for (const [k, v] of Object.entries(after)) total[k] = (total[k] ?? 0) + v - (before[k] ?? 0);
    };

    let runs = 0;
    const measureRaw = async (): Promise<number> => {
      const done = new Promise<void>((resolve) => {
        rawDone = resolve;
      });
      const start = performance.now();
      await publish(channel, 'raw', `raw${runs++}`);
      await done;
      return (performance.now() - start) / 1000;
    };
    const measureGateway = async (): Promise<number> => {
      const base = await head();
      const start = performance.now();
      await publish(channel, 'listings', `gw${runs++}`);
      while ((await head()) - base < messages) await new Promise((r) => setTimeout(r, 10));
      return (performance.now() - start) / 1000;
    };

    console.log(
      `\nqueue → events: ${messages} listings per run, prefetch ${prefetch}, ${rounds} rounds (alternating which side goes first), 3 nodes + gateway + RabbitMQ on one machine`,
    );
    const rawCpuTotal: CpuSnapshot = {};
    const gwCpuTotal: CpuSnapshot = {};
    let rawSeconds = 0;
    let gwSeconds = 0;
    // A warm-up of each side first (JIT, connections, the first batches' plans).
    await measureRaw();
    await measureGateway();
    for (let r = 0; r < rounds; r++) {
      const gatewayFirst = r % 2 === 1;
      let raw = 0;
      let gw = 0;
      for (const side of gatewayFirst ? ['gateway', 'raw'] : ['raw', 'gateway']) {
        if (side === 'raw') {
          const before = rawCpu();
          raw = await measureRaw();
          add(rawCpuTotal, before, rawCpu());
        } else {
          const before = gwCpu();
          gw = await measureGateway();
          add(gwCpuTotal, before, gwCpu());
        }
      }
      rawSeconds += raw;
      gwSeconds += gw;
      console.log(
        `  round ${r + 1} (${gatewayFirst ? 'gateway first' : 'raw first'}): raw ${(messages / raw).toFixed(0)} msg/s, gateway ${(messages / gw).toFixed(0)} msg/s, ratio ${(raw / gw).toFixed(2)}`,
      );
    }
    await db.end();
    await consumer.close();
    const raw = (messages * rounds) / rawSeconds;
    const gw = (messages * rounds) / gwSeconds;
    const perMessage = (total: CpuSnapshot) =>
      Object.entries(total)
        .map(([k, v]) => `${k} ${Math.round((v / (messages * rounds)) * 1000)}`)
        .join(', ');
    console.log('\nraw consume+ack msg/s   gateway → leader → events msg/s   ratio');
    console.log(
      `${raw.toFixed(0).padStart(22)}   ${gw.toFixed(0).padStart(32)}   ${(gw / raw).toFixed(2).padStart(5)}   ${gw / raw >= TARGET ? 'target met' : `target ${TARGET} NOT met`}`,
    );
    console.log(`  CPU µs per message, raw:     ${perMessage(rawCpuTotal)}`);
    console.log(`  CPU µs per listing, gateway: ${perMessage(gwCpuTotal)}`);
  } finally {
    await bench.stop();
  }
} finally {
  await connection.close();
  await mq.stop();
}
