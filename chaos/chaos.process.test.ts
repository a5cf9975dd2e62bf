/**
 * The bounded chaos run of `npm test`: every fault kind at least once (kill -9, SIGSTOP, a
 * partitioned leader, an isolated follower, 30 % loss, RabbitMQ and the gateway restarted) under
 * a workload of task writes and queue messages, on real hosts (network namespaces). The full-size
 * run is `npm run chaos -- --minutes N`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runChaos } from './chaos-run.js';
import { FAULT_KINDS } from './nemesis.js';
import { testNetworkUnavailable } from './test-network.js';

const unavailable = await testNetworkUnavailable();

test('under every kind of fault: no acknowledged write lost or doubled, one leader per term, fenced terms', {
  timeout: 600_000,
  skip: unavailable ?? false,
}, async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20261124);
  const report = await runChaos({ seed, faults: FAULT_KINDS.length + 3 });
  process.stderr.write(`${formatReport(report)}\n`);
  for (const kind of FAULT_KINDS) assert.ok(report.faults.get(kind), `${kind} was injected`);
  assert.ok(report.operations.ok > 100, `enough acknowledged writes (${report.operations.ok})`);
  assert.ok(report.messages.confirmed > 100, `enough confirmed messages (${report.messages.confirmed})`);
  assert.equal(report.violations, 0, formatReport(report));
});
