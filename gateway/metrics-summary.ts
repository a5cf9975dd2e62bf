/**
 * `GET /metrics/summary`: the few totals the cluster page charts, as JSON (the page turns the
 * counters into rates between two reads). Read from the same prom-client registry as `/metrics`,
 * so the two never disagree.
 */
import type { Counter, Gauge } from 'prom-client';
import type { GatewayMetrics } from './metrics.js';

export interface MetricsSummary {
  /** When it was read (ms since the epoch): rates are per second of this clock. */
  readonly at: number;
  /** Mutations and uploads answered by the leader (counter). */
  readonly writes: number;
  /** Queries answered by a node (counter). */
  readonly reads: number;
  /** Messages ready in the listings queue at the last check (gauge). */
  readonly queueLag: number;
  /** Listings-queue messages taken, any outcome (counter). */
  readonly queueMessages: number;
  /** FTP polls that imported a new file (counter). */
  readonly ftpImports: number;
  /** Leader changes the gateway followed (counter). */
  readonly failovers: number;
}

/** The sum of a metric's series whose labels match `where`. */
async function sum(
  metric: Counter<string> | Gauge<string>,
  where: Record<string, string[]> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(where).every(([k, allowed]) => allowed.includes(String(v.labels[k]))))
    .reduce((total, v) => total + v.value, 0);
}

export async function metricsSummary(metrics: GatewayMetrics): Promise<MetricsSummary> {
  return {
    at: Date.now(),
    writes: await sum(metrics.requests, { kind: ['mutation', 'upload'], outcome: ['ok'] }),
    reads: await sum(metrics.requests, { kind: ['query'], outcome: ['ok'] }),
    queueLag: await sum(metrics.queueLag),
    queueMessages: await sum(metrics.queueMessages),
    ftpImports: await sum(metrics.ftpPolls, { outcome: ['imported'] }),
    failovers: await sum(metrics.failovers),
  };
}
