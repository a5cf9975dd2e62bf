/**
 * `npm run chaos -- [--minutes N] [--faults N] [--seed S] [--clients N] [--database patroni]`: one chaos run at the
 * size asked for (default: every fault kind once), its result table, exit 1 on any violation.
 * Needs root (network namespaces), iproute2, nftables, rabbitmq-server; `--database patroni` runs
 * PostgreSQL as a Patroni cluster (patroni, postgresql-15, etcd-server) and adds the database faults.
 */
import { parseArgs } from 'node:util';
import { formatReport, runChaos } from './chaos-run.js';

const usage =
  'usage: npm run chaos -- [--minutes N] [--faults N] [--seed S] [--clients N] [--database patroni]';

function positive(name: string, text: string | undefined, integer = true): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not "${text}"\n${usage}`);
    process.exit(2);
  }
  return n;
}

let values: Record<string, string | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      clients: { type: 'string' },
      database: { type: 'string' },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.database !== undefined && values.database !== 'patroni' && values.database !== 'embedded') {
  console.error(`--database must be patroni or embedded, not "${values.database}"\n${usage}`);
  process.exit(2);
}
const minutes = positive('minutes', values.minutes, false);
const seed = positive('seed', values.seed) ?? Math.floor(Math.random() * 2 ** 31);
const report = await runChaos({
  seed,
  ...(minutes !== undefined ? { durationMs: minutes * 60_000 } : {}),
  ...(values.faults !== undefined ? { faults: positive('faults', values.faults) } : {}),
  ...(values.clients !== undefined ? { clients: positive('clients', values.clients) } : {}),
  ...(values.database === 'patroni' ? { database: 'patroni' as const } : {}),
  basePort: 15_400,
  net: 232,
  prefix: 'enscli',
  outDir: '.data/chaos',
  log: (line) => console.error(`[chaos] ${line}`),
});
console.log(formatReport(report));
process.exit(report.violations === 0 ? 0 : 1);
