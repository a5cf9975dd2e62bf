/**
 * `--trace` of the benchmarks: the nodes' and the gateway's log lines from one instant on, merged
 * on their wall-clock `time` (every process runs on this machine: one clock), as offsets from it.
 */
import type { LogRecord } from '../launcher/local-cluster.js';
import type { ServiceRecord } from '../launcher/service-process.js';

export const timeOf = (r: { readonly [field: string]: unknown }): number => Date.parse(String(r.time));

export function printTrace(
  nodes: readonly LogRecord[],
  gateway: readonly ServiceRecord[],
  from: { node: number; gateway: number },
  t0: number,
): void {
  const lines = [
    ...nodes.slice(from.node).map((r) => ({ at: timeOf(r) - t0, who: r.node, msg: r.msg })),
    ...gateway.slice(from.gateway).map((r) => ({ at: timeOf(r) - t0, who: 'gateway', msg: r.msg })),
  ].sort((a, b) => a.at - b.at);
  for (const l of lines) process.stdout.write(`    +${String(l.at).padStart(5)} ms [${l.who}] ${l.msg}\n`);
}
