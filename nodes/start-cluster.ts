/**
 * `npm start` (until the full local stack lands): a cluster of ENSEMBLE_NODES nodes (default 3)
 * on loopback that elects a leader and prints its transitions. A node that dies is reported and
 * not restarted, so `kill -9` of the leader shows a failover. Ctrl-C stops every node.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalPostgres } from '../launcher/embedded-postgres.js';
import { LocalCluster, type LogRecord } from './local-cluster.js';

const DATA = '.data';
const size = Number(process.env.ENSEMBLE_NODES ?? '3');
if (!Number.isInteger(size) || size < 1 || size > 9) {
  console.error(`ENSEMBLE_NODES must be a whole number from 1 to 9 (got "${process.env.ENSEMBLE_NODES}")`);
  process.exit(2);
}
mkdirSync(DATA, { recursive: true });

const lock = join(DATA, 'ensemble.pid');
if (existsSync(lock)) {
  const pid = Number(readFileSync(lock, 'utf8'));
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = true;
  } catch {}
  if (alive) {
    console.error(`ensemble is already running (pid ${pid}); stop it with Ctrl-C first`);
    process.exit(1);
  }
}
writeFileSync(lock, String(process.pid));

/** A value from the environment, or one generated once and kept under .data/. */
function keptSecret(variable: string, file: string): string {
  const fromEnv = process.env[variable];
  if (fromEnv) return fromEnv;
  const path = join(DATA, file);
  if (!existsSync(path)) writeFileSync(path, randomBytes(24).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

const time = () => new Date().toISOString().slice(11, 23);
const pad = (s: string, n: number) => s.padEnd(n);
let stopping = false;

function show(r: LogRecord): void {
  if (typeof r.from === 'string' && typeof r.to === 'string') {
    const arrow = `${pad(r.from, 13)} → ${pad(r.to, 13)}`;
    console.log(`${time()}  ${pad(r.node, 3)} ${arrow} term ${String(r.term).padStart(3)}  (${r.reason})`);
  } else if (r.level >= 40) {
    console.log(`${time()}  ${pad(r.node, 3)} ${r.level >= 50 ? 'ERROR' : 'warn'} ${r.msg}`);
  }
}

const postgres = process.env.DATABASE_URL
  ? null
  : await startLocalPostgres({ dataDir: join(DATA, 'postgres'), port: 5433, database: 'ensemble' });
const databaseUrl = process.env.DATABASE_URL ?? (postgres?.url as string);
const apiToken = keptSecret('API_TOKEN', 'api-token');

const cluster = new LocalCluster({
  size,
  secret: keptSecret('CLUSTER_SECRET', 'cluster-secret'),
  databaseUrl,
  apiToken,
  dataRoot: join(DATA, 'nodes'),
  electionTimeoutMs: process.env.ELECTION_TIMEOUT_MS ?? '150-300',
  heartbeatIntervalMs: Number(process.env.HEARTBEAT_INTERVAL_MS ?? '50'),
  logLevel: process.env.LOG_LEVEL ?? 'info',
  onRecord: show,
  onText: (node, line) => console.log(`${time()}  ${pad(node, 3)} ${line}`),
  onExit: (node, code, signal) => {
    if (!stopping)
      console.log(`${time()}  ${pad(node, 3)} exited (${signal ?? `code ${code}`}); not restarted`);
  },
});

console.log(`ensemble: ${size} nodes on loopback`);
console.log(
  `  PostgreSQL ${postgres ? `embedded, 127.0.0.1:5433 (data in .data/postgres)` : 'from DATABASE_URL'}`,
);
console.log(`  API token  ${apiToken}  (mutations need: Authorization: Bearer <token>)`);
for (const id of cluster.ids) {
  console.log(`  ${id}  ${cluster.url(id)}/graphql  udp ${cluster.host}:${cluster.udpPort(id)}`);
}
console.log('  data under .data/; Ctrl-C stops every node\n');
cluster.startAll();
// Ready means every node serves HTTP and all of them follow one leader.
cluster
  .waitForReady(cluster.ids, 60_000)
  .then(() => cluster.waitForAgreement(60_000))
  .then(
    (a) =>
      console.log(
        `${time()}  ready: ${a.leader} leads term ${a.term}; writes go to ${cluster.url(a.leader)}/graphql`,
      ),
    () => console.log(`${time()}  not ready after 60 s: is a majority of nodes up? (see the lines above)`),
  );

const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await cluster.stopAll();
  await postgres?.stop();
  rmSync(lock, { force: true });
  process.exit(0);
};
// embedded-postgres (through async-exit-hook) stops PostgreSQL and exits on the first SIGINT or
// SIGTERM, racing this orderly shutdown; the nodes must stop before their database does.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
