/**
 * The node's `/healthz` body (common/node-health.ts), from its election, its leadership bridge
 * and its UDP transport.
 */
import type { NodeHealth } from '../common/node-health.js';
import type { Leadership } from './app/leadership.js';
import type { ElectionService } from './election/election-service.js';
import type { UdpTransport } from './transport/udp-transport.js';

export function nodeHealth(parts: {
  readonly url: string;
  readonly election: ElectionService;
  readonly leadership: Leadership;
  readonly transport: UdpTransport;
}): NodeHealth {
  const { election, leadership, transport } = parts;
  const s = election.status();
  return {
    id: s.id,
    url: parts.url,
    role: s.role,
    term: s.term,
    leader: s.leader,
    leaderUrl: leadership.leaderRef()?.url ?? null,
    votedFor: s.votedFor,
    writable: leadership.canWrite(),
    database: leadership.databaseHealth(),
    datagrams: {
      received: transport.received,
      sent: transport.sent,
      dropped: transport.drops.snapshot(),
    },
  };
}
