/**
 * What the gateway benchmarks run on: an embedded PostgreSQL, a 3-node cluster and the gateway
 * process, all real and on loopback, as the process tests start them (durable PostgreSQL: fsync on).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceProcess, type ServiceRecord } from '../launcher/service-process.js';
import { LocalCluster } from '../nodes/local-cluster.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

export const BENCH_TOKEN = 'bench-gateway-token-0123456789';
const SECRET = 'bench-gateway-secret-0123456789';

export interface BenchCluster {
  readonly cluster: LocalCluster;
  readonly gateway: ServiceProcess;
  readonly gatewayUrl: string;
  /** The embedded PostgreSQL's port (its server processes are found by it, for CPU accounting). */
  readonly postgresPort: number;
  /** The cluster's database (for a benchmark's own reads of the log, beside the system). */
  readonly databaseUrl: string;
  /** The gateway's current leader (from its /healthz), once it knows one above `aboveTerm`. */
  leader(aboveTerm?: number): Promise<{ id: string; url: string; term: number }>;
  stop(): Promise<void>;
}

export async function startBenchCluster(
  basePort: number,
  extraGatewayEnv: Record<string, string> = {},
): Promise<BenchCluster> {
  const pg: TestPostgres = await startTestPostgres({ durable: true });
  const gatewayUrl = `http://127.0.0.1:${basePort}`;
  const gateway = new ServiceProcess({
    name: 'gateway',
    script: fileURLToPath(new URL('../gateway/main.js', import.meta.url)),
    env: {
      GATEWAY_URL: gatewayUrl,
      CLUSTER_SECRET: SECRET,
      API_TOKEN: BENCH_TOKEN,
      NODE_URLS: [1, 2, 3].map((i) => `http://127.0.0.1:${basePort + i}`).join(','),
      HEALTH_INTERVAL_MS: '200',
      LOG_LEVEL: 'info',
      ...(process.env.GATEWAY_PROFILE
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.GATEWAY_PROFILE}` }
        : {}),
      ...extraGatewayEnv,
    },
    onText: (line) => process.stderr.write(`[gateway] ${line}\n`),
  });
  const ready = gateway.waitFor((r: ServiceRecord) => r.msg === 'gateway ready', 30_000, 'ready');
  gateway.start();
  await ready;
  const databaseUrl = await pg.createDatabase('bench');
  const cluster = new LocalCluster({
    size: 3,
    secret: SECRET,
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-bench-')),
    databaseUrl,
    apiToken: BENCH_TOKEN,
    gatewayUrl,
    basePort: basePort + 1,
    baseUdpPort: basePort + 11,
    logLevel: 'info',
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
  });
  cluster.startAll();
  await cluster.waitForReady();
  await cluster.waitForAgreement(30_000);
  const leader = async (aboveTerm = 0) => {
    for (;;) {
      const res = await fetch(`${gatewayUrl}/healthz`).catch(() => null);
      const body = res?.ok
        ? ((await res.json()) as { leader: { id: string; url: string; term: number } | null })
        : null;
      if (body?.leader && body.leader.term > aboveTerm) return body.leader;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await leader();
  return {
    cluster,
    gateway,
    gatewayUrl,
    postgresPort: pg.port,
    databaseUrl,
    leader,
    async stop() {
      await gateway.stop();
      await cluster.stopAll();
      await pg.stop();
    },
  };
}
