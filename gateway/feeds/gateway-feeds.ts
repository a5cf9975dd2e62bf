/**
 * The gateway's subscriptions. `leaderChanged` comes from the leader registry (announcements,
 * and the transitions below); `clusterEvents` merges every node's own transitions, one standing
 * subscription per node that reconnects when the node comes back and then asks for what it
 * missed (`since`), and whose transitions to leader tell the registry of a new leader at once
 * (before the node's fence claim and announcement); `events` is passed through from a healthy node and, when
 * that node goes away, resumed on another just after the last position delivered, so a
 * subscriber sees neither a gap nor a repeat across a node's death.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createPubSub } from '@graphql-yoga/subscription';
import { Repeater } from '@repeaterjs/repeater';
import type { Logger } from 'pino';
import type { ClusterEventDto, EventDto, Feeds, LeaderChangeDto } from '../../api/ports.js';
import { RecentTransitions } from '../../api/recent-transitions.js';
import { graphql } from '../../schema/generated/index.js';
import type { LeaderRegistry } from '../routing/leader-registry.js';
import type { NodeDirectory } from '../routing/node-directory.js';
import { subscribeOnNode } from './node-subscription.js';

const CLUSTER_EVENTS = graphql(
  `subscription NodeClusterEvents($since: DateTime) { clusterEvents(since: $since) { nodeId term from to reason at } }`,
);
const EVENTS = graphql(`subscription NodeEvents($stream: String, $afterPosition: Int) {
  events(stream: $stream, afterPosition: $afterPosition) { ...EventFields } }`);
const RECONNECT_MS = [100, 250, 500, 1_000, 2_000] as const;

export class GatewayFeeds implements Feeds {
  private readonly pubsub = createPubSub<{ leaderChanged: [LeaderChangeDto] }>();
  /** Every node's transitions, merged, the last ones kept for `clusterEvents(since:)`. */
  private readonly transitions = new RecentTransitions();
  private readonly startedAt = new Date();
  private readonly watched = new Set<string>();
  /** Per node URL, what ends a feed's wait before its next reconnection attempt. */
  private readonly wakers = new Map<string, () => void>();
  private readonly stops: Array<() => Promise<void>> = [];
  private stopped = false;

  constructor(
    private readonly registry: LeaderRegistry,
    private readonly directory: NodeDirectory,
    private readonly logger: Logger,
    /** The log's newest position, read on a node. */
    private readonly headPosition: () => Promise<number>,
  ) {
    registry.onChange((leader) =>
      this.pubsub.publish('leaderChanged', {
        term: leader.term,
        leader: { id: leader.id, url: leader.url, role: 'LEADER', term: leader.term, lastSeenAt: leader.at },
        at: leader.at,
      }),
    );
  }

  /** Keep one clusterEvents subscription per known node (call again when nodes are added). */
  watchNodes(): void {
    for (const node of this.directory.all()) {
      if (this.watched.has(node.url) || this.stopped) continue;
      this.watched.add(node.url);
      // The first subscription asks for every transition the node kept, so the page shows an
      // election that happened before the gateway started; a feed that reconnects asks for what
      // it missed since the last one it saw.
      let lastAt = new Date(0);
      const feed = this.forever(node.url, (onConnected) =>
        subscribeOnNode(
          node.url,
          CLUSTER_EVENTS,
          { since: lastAt.toISOString() },
          'clusterEvents',
          onConnected,
        ),
      );
      const pump = (async () => {
        for await (const event of feed) {
          if (event.at > lastAt) lastAt = event.at;
          this.transitions.add(event); // a replayed one seen before is dropped here
          // Only a fresh win or campaign routes writes: an old one replayed from the node's memory
          // could briefly point an empty registry at a leader long deposed.
          if (event.at < this.startedAt) continue;
          if (event.to === 'LEADER') this.leaderElected(event, node.url);
          // A campaign (pre-vote or vote) may take a write whose leader failed (LeaderRouter).
          this.registry.campaign(
            { id: event.nodeId, url: node.url, term: event.term },
            event.to === 'CANDIDATE',
          );
        }
      })();
      this.stops.push(async () => {
        await feed.return();
        await pump;
      });
    }
  }

  /**
   * A node's own word that it won an election: route writes to it now rather than after its
   * fence claim and announcement (the node holds a write until its claim commits, and refuses
   * it if the claim fails, so no write is taken without the fence). The registry refuses an
   * older term, or another node for a term it knows, as for announcements.
   */
  private leaderElected(event: ClusterEventDto, url: string): void {
    const result = this.registry.accept({ id: event.nodeId, url, term: event.term });
    if (result.kind === 'accepted' && result.changed) {
      this.logger.info({ leader: event.nodeId, term: event.term, url }, 'leader learnt from its transition');
    }
  }

  /**
   * The node answers its health check again: reconnect its feed now rather than after the
   * backoff (up to 2 s), so that the gateway hears of its transitions — a win, say — at once.
   */
  reconnectNow(url: string): void {
    this.wakers.get(url)?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.stops.map((s) => s()));
  }

  leaderChanged(): AsyncIterableIterator<LeaderChangeDto> {
    return this.pubsub.subscribe('leaderChanged');
  }

  clusterEvents(args: { since?: Date } = {}): AsyncIterableIterator<ClusterEventDto> {
    return this.transitions.subscribe(args.since);
  }

  /**
   * "From now" is turned into a position first (the log's head), so that a resume after a node's
   * death, or a slow first connection to a node, can neither skip nor repeat an event.
   */
  events(args: { stream?: string; afterPosition?: number }): AsyncIterableIterator<EventDto> {
    const { directory, logger, headPosition } = this;
    return new Repeater<EventDto>(async (push, stop) => {
      let after: number;
      try {
        after = args.afterPosition ?? (await headPosition());
      } catch (error) {
        stop(error);
        return;
      }
      let done = false;
      void stop.then(() => {
        done = true;
      });
      for (let failures = 0; !done; ) {
        const node = directory.inTurn()[0];
        if (node) {
          const feed = subscribeOnNode(
            node.url,
            EVENTS,
            { stream: args.stream ?? null, afterPosition: after },
            'events',
          );
          void stop.then(() => feed.return());
          logger.info({ node: node.url, after }, 'events feed on node');
          try {
            for await (const event of feed) {
              failures = 0;
              after = event.position;
              await push(event);
            }
          } catch (error) {
            stop(error); // the node refused the subscription: tell the client, do not retry
            return;
          }
          if (!done) logger.info({ node: node.url, after }, 'events feed lost its node; resuming on another');
        }
        if (!done)
          await Promise.race([delay(RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]), stop]);
      }
    });
  }

  /**
   * A node's feed, resubscribed with backoff whenever it ends, until stopped. Connections and
   * losses are logged (a transition published while a feed is down is not seen by the gateway).
   */
  private forever<T>(url: string, open: (onConnected: () => void) => Repeater<T>): Repeater<T> {
    return new Repeater<T>(async (push, stop) => {
      let done = false;
      void stop.then(() => {
        done = true;
      });
      for (let failures = 0; !done && !this.stopped; ) {
        let connected = false;
        const feed = open(() => {
          connected = true;
          failures = 0;
          this.logger.info({ node: url }, 'clusterEvents feed connected');
        });
        void stop.then(() => feed.return());
        try {
          for await (const value of feed) await push(value);
        } catch (error) {
          this.logger.warn(
            { node: url, err: (error as Error).message },
            'a node refused its clusterEvents feed',
          );
        }
        if (done) break;
        if (connected) this.logger.info({ node: url }, 'clusterEvents feed lost; reconnecting');
        // Its campaign, if any, is not one to send writes to: the gateway no longer hears how it ends.
        this.registry.forgetCampaignsAt(url);
        const woken = new Promise<void>((resolve) => this.wakers.set(url, resolve));
        await Promise.race([delay(RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]), stop, woken]);
        this.wakers.delete(url);
      }
    });
  }
}
