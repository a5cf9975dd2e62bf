/**
 * The leaderChanged feed: every leader the election learns of, with its URL from the Node table,
 * published to subscribers in the order the election learnt them.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { LeaderChangeDto } from '../../api/ports.js';
import type { ElectionService } from '../election/election-service.js';
import type { PeerUrls } from '../leadership/peer-urls.js';

export class LeaderChanges {
  private readonly pubsub = createPubSub<{ leaderChanged: [LeaderChangeDto] }>();
  private publishing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly election: Pick<ElectionService, 'subscribe'>,
    private readonly urls: PeerUrls,
  ) {}

  start(): void {
    this.unsubscribe = this.election.subscribe((e) => {
      if (e.kind !== 'leader' || !e.leader) return;
      const leader = e.leader;
      // Chained, so that leader changes are published in the order they happened even when one
      // of them waits for the Node table to learn a new leader's URL.
      this.publishing = this.publishing.then(async () => {
        const url = await this.urls.lookup(leader);
        await this.pubsub.publish('leaderChanged', {
          term: e.term,
          leader: { id: leader, url, role: 'LEADER', term: e.term, lastSeenAt: e.at },
          at: e.at,
        });
      });
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  subscribe(): AsyncIterableIterator<LeaderChangeDto> {
    return this.pubsub.subscribe('leaderChanged');
  }
}
