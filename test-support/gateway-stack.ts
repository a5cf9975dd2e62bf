/**
 * The gateway and a 3-node cluster on loopback, as the gateway's process tests and benchmarks
 * run them: the gateway on `basePort`, node i's HTTP on `basePort + i` and its UDP on
 * `basePort + 10 + i`. Each suite still decides when to start what (some start the gateway with
 * no cluster, some restart it); these only build the processes and answer the common waits.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { gatewayConfigSchema } from '../gateway/config.js';
import { type GatewayServer, startGatewayServer } from '../gateway/gateway-server.js';
import { LocalCluster, type LocalClusterOptions } from '../launcher/local-cluster.js';
import { ServiceProcess, type ServiceRecord } from '../launcher/service-process.js';
import type { TypedDocumentString } from '../schema/generated/graphql.js';
import { startTestPostgres } from './postgres.js';

export interface StackIdentity {
  readonly basePort: number;
  readonly secret: string;
  readonly apiToken: string;
}

const NODES = 3;

export const gatewayUrlOf = (basePort: number): string => `http://127.0.0.1:${basePort}`;

/**
 * The gateway process (not started), knowing the stack's nodes; `env` adds or overrides (the
 * chaos suite's gateway, on another address, overrides GATEWAY_URL and NODE_URLS). Its text
 * goes to stderr unless `onText` takes it.
 */
export function gatewayProcess(
  stack: StackIdentity,
  options: {
    readonly env?: Record<string, string>;
    readonly onRecord?: (r: ServiceRecord) => void;
    readonly onText?: (line: string) => void;
    readonly onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  } = {},
): ServiceProcess {
  return new ServiceProcess({
    name: 'gateway',
    script: fileURLToPath(new URL('../gateway/main.js', import.meta.url)),
    env: { ...gatewayEnv(stack), ...options.env },
    ...(options.onRecord ? { onRecord: options.onRecord } : {}),
    ...(options.onExit ? { onExit: options.onExit } : {}),
    onText: options.onText ?? ((line) => process.stderr.write(`[gateway] ${line}\n`)),
  });
}

/** The gateway's environment in the stack: its address, secret, token and nodes, a quick health check. */
function gatewayEnv(stack: StackIdentity): Record<string, string> {
  return {
    GATEWAY_URL: gatewayUrlOf(stack.basePort),
    CLUSTER_SECRET: stack.secret,
    API_TOKEN: stack.apiToken,
    NODE_URLS: Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${stack.basePort + i + 1}`).join(
      ',',
    ),
    HEALTH_INTERVAL_MS: '200',
  };
}

/**
 * The gateway in this process, serving once resolved (for tests that look inside it, such as
 * its spans in an in-memory exporter); `env` adds or overrides, as for gatewayProcess.
 */
export function startInProcessGateway(
  stack: StackIdentity,
  env: Record<string, string> = {},
): Promise<GatewayServer> {
  const config = parseConfig(gatewayConfigSchema, { ...gatewayEnv(stack), ...env });
  return startGatewayServer(config, createLogger('gateway', 'warn'));
}

/** Start the gateway and resolve once it serves. */
export async function startGateway(gateway: ServiceProcess): Promise<void> {
  const ready = gateway.waitFor(
    (r: ServiceRecord) => r.msg === 'gateway ready',
    30_000,
    'the gateway to serve',
  );
  gateway.start();
  await ready;
}

/** The stack's 3 nodes (not started), announcing to its gateway; `options` adds or overrides. */
export function gatewayCluster(
  stack: StackIdentity,
  options: Pick<LocalClusterOptions, 'dataRoot' | 'databaseUrl'> & Partial<LocalClusterOptions>,
): LocalCluster {
  return new LocalCluster({
    size: NODES,
    secret: stack.secret,
    apiToken: stack.apiToken,
    gatewayUrl: gatewayUrlOf(stack.basePort),
    basePort: stack.basePort + 1,
    baseUdpPort: stack.basePort + 11,
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
    ...options,
  });
}

/** The gateway and its nodes running on a database of their own (see startGatewayStack). */
export interface RunningStack {
  readonly gateway: ServiceProcess;
  readonly cluster: LocalCluster;
  readonly databaseUrl: string;
  /** The gateway, then the nodes, then their PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * The whole stack started, as most gateway process tests want it: the gateway (logging at warn)
 * and the 3 nodes on a fresh database of their own embedded PostgreSQL; resolves once the nodes
 * agree on a leader and the gateway knows it. `cluster` adds or overrides the nodes' options.
 */
export async function startGatewayStack(
  stack: StackIdentity,
  options: { readonly name: string; readonly cluster?: Partial<LocalClusterOptions> },
): Promise<RunningStack> {
  const postgres = await startTestPostgres();
  const gateway = gatewayProcess(stack, { env: { LOG_LEVEL: 'warn' } });
  let cluster: LocalCluster | null = null;
  const stop = async () => {
    await gateway.stop();
    await cluster?.stopAll();
    await postgres.stop();
  };
  try {
    gateway.start();
    const databaseUrl = await postgres.createDatabase(options.name);
    cluster = gatewayCluster(stack, {
      dataRoot: mkdtempSync(join(tmpdir(), `ensemble-${options.name}-`)),
      databaseUrl,
      ...options.cluster,
    });
    cluster.startAll();
    await cluster.waitForReady();
    await cluster.waitForAgreement(30_000);
    await gatewayLeader(gatewayUrlOf(stack.basePort));
    return { gateway, cluster, databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The gateway's leader (from its /healthz) once it knows one above `aboveTerm`. */
export async function gatewayLeader(
  gatewayUrl: string,
  aboveTerm = 0,
  timeoutMs = 30_000,
): Promise<{ id: string; url: string; term: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${gatewayUrl}/healthz`).catch(() => null);
    const body = res?.ok
      ? ((await res.json()) as { leader: { id: string; url: string; term: number } | null })
      : null;
    if (body?.leader && body.leader.term > aboveTerm) return body.leader;
    if (Date.now() > deadline)
      throw new Error(`the gateway knew no leader above term ${aboveTerm} in ${timeoutMs} ms`);
    // The gateway's own view, which its routing uses; /healthz answers it from memory.
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A typed GraphQL request to `${url}/graphql` that must succeed: its data (any error throws). */
export async function graphqlData<T, V>(
  url: string,
  query: TypedDocumentString<T, V>,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables: variables ?? {} }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  if (body.errors !== undefined) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}
