/**
 * This node's row in the Node table: its URL and its election role and term, written every
 * second (the database watch's probe) and shortly after transitions; each report also re-reads
 * everyone's URLs. A transition's report waits REPORT_SETTLE_MS and then writes the state of
 * that moment: an election passes through several roles within milliseconds (pre-candidate,
 * candidate, leader or follower), and a report at each — an upsert, a read, their CPU on every
 * node — ran in the middle of the vote round and the claim, on the path from a leader's loss to
 * the first write. Never on becoming leader: the fence claim writes the row in its own
 * transaction (claim_fence), and a report upserting the same row then made the claim wait for
 * its row lock.
 */

import { contractRole } from '../../common/node-health.js';
import type { ElectionService } from '../election/election-service.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { PeerUrls } from './peer-urls.js';

/** How long after a transition its report is written (the state then, however many transitions). */
export const REPORT_SETTLE_MS = 100;

export class NodeReporter {
  private unsubscribe: (() => void) | null = null;
  private settling: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: {
      readonly registry: NodeRegistry;
      readonly election: Pick<ElectionService, 'status' | 'subscribe'>;
      readonly url: string;
      readonly urls: PeerUrls;
    },
  ) {}

  /** Reports after transitions from now on (a failed one waits for the next probe). */
  start(): void {
    this.unsubscribe = this.options.election.subscribe((e) => {
      if (e.kind !== 'transition' || this.settling) return;
      this.settling = setTimeout(() => {
        this.settling = null;
        if (this.options.election.status().role !== 'leader') this.report().catch(() => {});
      }, REPORT_SETTLE_MS);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.settling) clearTimeout(this.settling);
    this.settling = null;
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
