/**
 * The chaos run on a Patroni cluster: the database primary's host killed (failover) and a planned
 * switchover, under the same workload and checker as chaos.process.test.ts — no acknowledged
 * write lost or doubled, every heal followed by an acknowledged write within the bound. The nodes
 * reach the two members through the multi-host URL. `npm run chaos -- --database patroni` mixes
 * these faults with all the others.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runChaos } from './chaos-run.js';
import { DATABASE_FAULT_KINDS } from './nemesis.js';
import { testNetworkUnavailable } from './test-network.js';

const unavailable = await testNetworkUnavailable();

test('the database fails over and switches over: no acknowledged write lost or doubled', {
  timeout: 300_000,
  skip: unavailable ?? false,
}, async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20261202);
  const report = await runChaos({
    seed,
    database: 'patroni',
    kinds: DATABASE_FAULT_KINDS,
    faults: DATABASE_FAULT_KINDS.length,
    basePort: 15_500,
    net: 233,
    prefix: 'ensdb',
  });
  process.stderr.write(`${formatReport(report)}\n`);
  for (const kind of DATABASE_FAULT_KINDS) assert.ok(report.faults.get(kind), `${kind} was injected`);
  assert.ok(report.operations.ok > 50, `enough acknowledged writes (${report.operations.ok})`);
  assert.equal(report.violations, 0, formatReport(report));
});
