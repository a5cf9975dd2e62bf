/** The clusterEvents feed: this node's election transitions, the last ones kept for `since`. */
import type { ClusterEventDto } from '../../api/ports.js';
import { RecentTransitions } from '../../api/recent-transitions.js';
import { contractRole } from '../../common/node-health.js';
import type { ElectionService } from '../election/election-service.js';

export class ElectionTransitions {
  private readonly recent = new RecentTransitions();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly election: Pick<ElectionService, 'subscribe'>,
    private readonly nodeId: string,
  ) {}

  start(): void {
    this.unsubscribe = this.election.subscribe((e) => {
      if (e.kind !== 'transition') return;
      this.recent.add({
        nodeId: this.nodeId,
        term: e.term,
        from: contractRole(e.from),
        to: contractRole(e.to),
        reason: e.reason,
        at: e.at,
      });
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  subscribe(since?: Date): AsyncIterableIterator<ClusterEventDto> {
    return this.recent.subscribe(since);
  }
}
