/**
 * The node's `/healthz` body (common/node-health.ts), from its election, its leadership bridge
 * (fence keeper, database watch, peer URLs) and its UDP transport.
 */
import type { NodeHealth } from '../common/node-health.js';
import { type Readiness, readiness } from '../common/probes.js';
import type { ElectionService } from './election/election-service.js';
import type { DatabaseWatch } from './leadership/database-watch.js';
import type { FenceKeeper } from './leadership/fence-keeper.js';
import type { PeerUrls } from './leadership/peer-urls.js';
import type { UdpTransport } from './transport/udp-transport.js';

/** This process's start, as its `/healthz` tells it. */
const STARTED_AT = new Date(Date.now() - process.uptime() * 1000).toISOString();

export function nodeHealth(parts: {
  readonly url: string;
  readonly election: ElectionService;
  readonly urls: PeerUrls;
  readonly keeper: FenceKeeper;
  readonly watch: DatabaseWatch;
  readonly transport: UdpTransport;
}): NodeHealth {
  const { election, urls, keeper, watch, transport } = parts;
  const s = election.status();
  return {
    id: s.id,
    url: parts.url,
    role: s.role,
    term: s.term,
    leader: s.leader,
    leaderUrl: urls.leaderRef(s.leader)?.url ?? null,
    votedFor: s.votedFor,
    writable: keeper.canWrite(),
    database: watch.health(),
    startedAt: STARTED_AT,
    datagrams: {
      received: transport.received,
      sent: transport.sent,
      dropped: transport.drops.snapshot(),
      refused: transport.refused,
    },
  };
}

/**
 * The node's `/readyz`: it knows a leader (itself included) and its last database probe
 * answered, and it is not stopping. A node without either is taken out of the gateway's and the
 * orchestrator's rotation, not restarted: it comes back by itself once both hold. A stopping one
 * (from its SIGTERM on, through its handover and linger) is on its way out.
 */
export function nodeReadiness(
  status: { readonly leader: string | null },
  database: { readonly failingForMs: number },
  stopping = false,
): Readiness {
  return readiness(status.leader, [
    stopping && 'stopping',
    status.leader === null && 'no leader known',
    database.failingForMs > 0 && `the database has not answered for ${database.failingForMs} ms`,
  ]);
}
