/** `/metrics/summary`: the cluster page's totals, summed from the prom-client series they come from. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from './metrics.js';
import { metricsSummary } from './metrics-summary.js';
import { LeaderRegistry } from './routing/leader-registry.js';
import type { NodeDirectory } from './routing/node-directory.js';

test('the summary sums writes, reads, queue and FTP series by the labels that count, and the failovers', async () => {
  const registry = new LeaderRegistry();
  const metrics = createMetrics(registry, { all: () => [] } as unknown as NodeDirectory);
  metrics.requests.inc({ kind: 'mutation', outcome: 'ok' }, 3);
  metrics.requests.inc({ kind: 'upload', outcome: 'ok' });
  metrics.requests.inc({ kind: 'mutation', outcome: 'error' }, 5); // not a write that happened
  metrics.requests.inc({ kind: 'query', outcome: 'ok' }, 7);
  metrics.queueLag.set(12);
  metrics.queueMessages.inc({ outcome: 'stored' }, 2);
  metrics.queueMessages.inc({ outcome: 'dead_lettered' });
  metrics.ftpPolls.inc({ outcome: 'imported' });
  metrics.ftpPolls.inc({ outcome: 'unchanged' }, 4);
  registry.accept({ id: 'n1', url: 'http://n1', term: 1 }); // the first leader is no failover
  registry.accept({ id: 'n2', url: 'http://n2', term: 2 });
  const before = Date.now();
  const summary = await metricsSummary(metrics);
  assert.ok(summary.at >= before);
  assert.deepEqual(
    { ...summary, at: 0 },
    { at: 0, writes: 4, reads: 7, queueLag: 12, queueMessages: 3, ftpImports: 1, failovers: 1 },
  );
});
