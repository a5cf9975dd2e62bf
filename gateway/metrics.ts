/**
 * The gateway's Prometheus metrics (`GET /metrics`). Node gauges are read from the directory at
 * scrape time, so they are never staler than the last health check.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { LeaderRegistry } from './routing/leader-registry.js';
import type { NodeDirectory } from './routing/node-directory.js';

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: LeaderRegistry, directory: NodeDirectory) {
  const register = new Registry();
  // ensemble_gateway_process_cpu_seconds_total, ensemble_gateway_nodejs_eventloop_lag_seconds, …
  collectDefaultMetrics({ register, prefix: 'ensemble_gateway_' });
  const requests = new Counter({
    name: 'ensemble_gateway_requests_total',
    help: 'GraphQL requests routed to the nodes, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [register],
  });
  const retries = new Counter({
    name: 'ensemble_gateway_retries_total',
    help: 'Writes sent again (same idempotency key) after NOT_LEADER, SERVICE_UNAVAILABLE or an unreachable leader',
    labelNames: ['reason'] as const,
    registers: [register],
  });
  const failovers = new Counter({
    name: 'ensemble_gateway_failovers_total',
    help: 'Leader changes the gateway followed',
    registers: [register],
  });
  new Gauge({
    name: 'ensemble_gateway_leader_term',
    help: 'Term of the leader the gateway writes to (0: none known)',
    registers: [register],
    collect() {
      this.set(registry.current()?.term ?? 0);
    },
  });
  const campaignWrites = new Counter({
    name: 'ensemble_gateway_campaign_writes_total',
    help: 'Writes sent to a node campaigning for leadership (their leader having failed them), by outcome: taken, refused (NOT_LEADER), database, deposed, unreachable',
    labelNames: ['outcome'] as const,
    registers: [register],
  });
  const documentPreviews = new Counter({
    name: 'ensemble_gateway_document_previews_total',
    help: 'Write documents previewed to followers (validated there, not run), by outcome',
    labelNames: ['outcome'] as const,
    registers: [register],
  });
  const batches = new Counter({
    name: 'ensemble_gateway_batches_total',
    help: 'Batches sent to the nodes (requests for one node in the same turn, sent as one)',
    registers: [register],
  });
  const batchedRequests = new Counter({
    name: 'ensemble_gateway_batched_requests_total',
    help: 'Requests sent to the nodes inside batches',
    registers: [register],
  });
  const queueMessages = new Counter({
    name: 'ensemble_gateway_queue_messages_total',
    help: 'Messages taken from the listings queue, by outcome',
    labelNames: ['outcome'] as const,
    registers: [register],
  });
  const queueLag = new Gauge({
    name: 'ensemble_gateway_queue_lag_messages',
    help: 'Messages ready in the listings queue at the last check',
    registers: [register],
  });
  const ftpPolls = new Counter({
    name: 'ensemble_gateway_ftp_polls_total',
    help: 'FTP polls of the listings file, by outcome',
    labelNames: ['outcome'] as const,
    registers: [register],
  });
  new Gauge({
    name: 'ensemble_node_up',
    help: 'Whether the node answered its last health check',
    labelNames: ['node'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const n of directory.all()) this.set({ node: n.id ?? n.url }, n.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ensemble_node_datagrams_dropped',
    help: 'Datagrams a node dropped (bad signature, replay, malformed…), as the node reports them',
    labelNames: ['node', 'reason'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const n of directory.all()) {
        // By reason only: a `total` series beside them would be counted twice by sum().
        for (const [reason, count] of Object.entries(n.drops))
          if (reason !== 'total') this.set({ node: n.id ?? n.url, reason }, count);
      }
    },
  });
  let first = true;
  registry.onChange(() => {
    if (!first) failovers.inc();
    first = false;
  });
  return {
    register,
    requests,
    retries,
    failovers,
    campaignWrites,
    documentPreviews,
    batches,
    batchedRequests,
    queueMessages,
    queueLag,
    ftpPolls,
  };
}
