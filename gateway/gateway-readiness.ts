/**
 * The gateway's `/readyz` (common/probes.ts): it knows a leader, and that leader's node answered
 * its last health check — the gateway has no database of its own, the leader's is the one its
 * writes reach. Not ready takes a replica out of the Service's rotation; it is not restarted.
 */
import { type Readiness, readiness } from '../common/probes.js';
import type { KnownLeader } from './routing/leader-registry.js';
import type { NodeState } from './routing/node-directory.js';

export function gatewayReadiness(leader: KnownLeader | null, nodes: readonly NodeState[]): Readiness {
  const leaderNode = leader ? nodes.find((n) => n.url === leader.url.replace(/\/$/, '')) : undefined;
  return readiness(leader?.id ?? null, [
    leader === null && 'no leader known yet',
    leader !== null &&
      !leaderNode?.healthy &&
      `the leader ${leader.id} did not answer its last health check (${leaderNode?.problem ?? 'not checked yet'})`,
  ]);
}
