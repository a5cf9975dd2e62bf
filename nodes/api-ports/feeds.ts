/** The subscription feeds of a node: its election's news, and the domain log from PostgreSQL. */
import { map } from '@graphql-yoga/subscription';
import type { ClusterEventDto, EventDto, Feeds, LeaderChangeDto } from '../../api/ports.js';
import type { EventFeed } from '../store/event-feed.js';
import type { ElectionTransitions } from './election-transitions.js';
import type { LeaderChanges } from './leader-changes.js';
import { toEventDto } from './read-models.js';

export class NodeFeeds implements Feeds {
  constructor(
    private readonly leaderChanges: LeaderChanges,
    private readonly transitions: ElectionTransitions,
    private readonly eventFeed: EventFeed,
  ) {}

  leaderChanged(): AsyncIterableIterator<LeaderChangeDto> {
    return this.leaderChanges.subscribe();
  }

  clusterEvents(args: { since?: Date } = {}): AsyncIterableIterator<ClusterEventDto> {
    return this.transitions.subscribe(args.since);
  }

  events(args: { stream?: string; afterPosition?: number }): AsyncIterableIterator<EventDto> {
    return map(toEventDto)(this.eventFeed.subscribe(args));
  }
}
