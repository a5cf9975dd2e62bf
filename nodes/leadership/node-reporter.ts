/**
 * This node's row in the Node table: its URL and its election role and term, written every
 * second (the database watch's probe) and at every transition but one; each report also re-reads
 * everyone's URLs. Not on becoming leader: the fence claim writes the row in its own transaction
 * (claim_fence), and a report upserting the same row at that moment made the claim wait for its
 * row lock, on the path from the election to the first write.
 */

import { contractRole } from '../../common/node-health.js';
import type { ElectionService } from '../election/election-service.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { PeerUrls } from './peer-urls.js';

export class NodeReporter {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly options: {
      readonly registry: NodeRegistry;
      readonly election: Pick<ElectionService, 'status' | 'subscribe'>;
      readonly url: string;
      readonly urls: PeerUrls;
    },
  ) {}

  /** Reports at every transition from now on (a failed one waits for the next probe). */
  start(): void {
    this.unsubscribe = this.options.election.subscribe((e) => {
      if (e.kind === 'transition' && e.to !== 'leader') this.report().catch(() => {});
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  async report(): Promise<void> {
    const s = this.options.election.status();
    await this.options.registry.report({
      id: s.id,
      url: this.options.url,
      role: contractRole(s.role),
      term: s.term,
    });
    await this.options.urls.refresh();
  }
}
