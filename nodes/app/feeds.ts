/** The subscription feeds of a node: its election's news, and the domain log from PostgreSQL. */
import { map } from '@graphql-yoga/subscription';
import type { ClusterEventDto, EventDto, Feeds, LeaderChangeDto } from '../../api/ports.js';
import type { EventFeed } from '../store/event-feed.js';
import type { Leadership } from './leadership.js';
import { toEventDto } from './read-models.js';

export class NodeFeeds implements Feeds {
  constructor(
    private readonly leadership: Leadership,
    private readonly eventFeed: EventFeed,
  ) {}

  leaderChanged(): AsyncIterableIterator<LeaderChangeDto> {
    return this.leadership.pubsub.subscribe('leaderChanged');
  }

  clusterEvents(args: { since?: Date } = {}): AsyncIterableIterator<ClusterEventDto> {
    return this.leadership.transitions.subscribe(args.since);
  }

  events(args: { stream?: string; afterPosition?: number }): AsyncIterableIterator<EventDto> {
    return map(toEventDto)(this.eventFeed.subscribe(args));
  }
}
