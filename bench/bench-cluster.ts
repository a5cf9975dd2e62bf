/**
 * What the gateway benchmarks run on: an embedded PostgreSQL, a 3-node cluster and the gateway
 * process, all real and on loopback, as the process tests start them (durable PostgreSQL: fsync on).
 * A benchmark of the database itself failing (a Patroni cluster) passes its own database instead.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCluster, LocalClusterOptions, LogRecord } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayProcess,
  gatewayUrlOf,
  startGateway,
} from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

export const BENCH_TOKEN = 'bench-gateway-token-0123456789';
const SECRET = 'bench-gateway-secret-0123456789';

export interface BenchCluster {
  readonly cluster: LocalCluster;
  readonly gateway: ServiceProcess;
  readonly gatewayUrl: string;
  /**
   * The embedded PostgreSQL's port (its server processes are found by it, for CPU accounting);
   * NaN on a database the benchmark brought.
   */
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
  /** Every log record of the nodes and of the gateway, as it arrives. */
  records: {
    readonly onNodeRecord?: (r: LogRecord) => void;
    readonly onGatewayRecord?: (r: ServiceRecord) => void;
  } = {},
  more: {
    /** The nodes' heartbeat and election timeout (LocalCluster's defaults, 30 ms and 150-300 ms, when absent). */
    readonly timing?: Pick<LocalClusterOptions, 'heartbeatIntervalMs' | 'electionTimeoutMs'>;
    /** The nodes' DATABASE_URL, when not an embedded PostgreSQL's (which stop() then leaves running). */
    readonly database?: { readonly url: string };
    /** More environment for the nodes (LEADER_PROBE, say). */
    readonly nodeEnv?: Readonly<Record<string, string>>;
  } = {},
): Promise<BenchCluster> {
  const { timing = {}, database, nodeEnv } = more;
  const pg: TestPostgres | null = database ? null : await startTestPostgres({ durable: true });
  const stack = { basePort, secret: SECRET, apiToken: BENCH_TOKEN };
  const gatewayUrl = gatewayUrlOf(basePort);
  const gateway = gatewayProcess(stack, {
    env: {
      LOG_LEVEL: 'info',
      ...(process.env.GATEWAY_PROFILE
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.GATEWAY_PROFILE}` }
        : {}),
      ...extraGatewayEnv,
    },
    ...(records.onGatewayRecord ? { onRecord: records.onGatewayRecord } : {}),
  });
  await startGateway(gateway);
  const databaseUrl = database?.url ?? (await (pg as TestPostgres).createDatabase('bench'));
  const cluster = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-bench-')),
    databaseUrl,
    logLevel: 'info',
    ...timing,
    ...(nodeEnv ? { env: nodeEnv } : {}),
    ...(records.onNodeRecord ? { onRecord: records.onNodeRecord } : {}),
  });
  cluster.startAll();
  await cluster.waitForReady();
  await cluster.waitForAgreement(30_000);
  const leader = (aboveTerm = 0) => gatewayLeader(gatewayUrl, aboveTerm, 60_000);
  await leader();
  return {
    cluster,
    gateway,
    gatewayUrl,
    postgresPort: pg?.port ?? Number.NaN,
    databaseUrl,
    leader,
    async stop() {
      await gateway.stop();
      await cluster.stopAll();
      await pg?.stop();
    },
  };
}
