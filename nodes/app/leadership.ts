/**
 * Bridges the election and the database: when the election makes this node leader of term T, it
 * claims the write fence for T (stepping down if a higher term already holds it), announces
 * itself to the gateway, and only then accepts writes. It also keeps this node's row in the Node
 * table fresh and publishes the election's transitions and leader changes to subscribers.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { Logger } from 'pino';
import { ApiError, type LeaderRef } from '../../api/errors.js';
import type { LeaderChangeDto } from '../../api/ports.js';
import { RecentTransitions } from '../../api/recent-transitions.js';
import type { ElectionService, TimedElectionEvent } from '../election/election-service.js';
import type { EventStore, Fence } from '../store/event-store.js';
import { NotLeaderError } from '../store/store-errors.js';
import type { GatewayAnnouncer } from './gateway-announcer.js';
import { apiRole } from './roles.js';

const REPORT_INTERVAL_MS = 1_000;
/**
 * How long the database may keep failing this node (reports, fence claims) before it stops
 * leading and standing: a leader that cannot write would otherwise hold leadership — heartbeats
 * keep flowing over UDP — while a node that can write waits behind it forever.
 */
const DATABASE_LOSS_MS = 3_000;
/** A report still unanswered after this long counts as a failure (a dead link hangs, not fails). */
const REPORT_TIMEOUT_MS = 2_000;

export type ClusterPubSub = ReturnType<typeof createClusterPubSub>;
export const createClusterPubSub = () => createPubSub<{ leaderChanged: [LeaderChangeDto] }>();

export class Leadership {
  /** The term whose fence this node holds, or null. Writes need it to equal the election's term. */
  private claimedTerm: number | null = null;
  private readonly urls = new Map<string, string>();
  private reportTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private claiming: Promise<void> = Promise.resolve();
  private publishing: Promise<void> = Promise.resolve();
  /** Since when the database has failed this node without a success in between, or null. */
  private databaseFailingSince: number | null = null;
  /** False while the database is out of reach: the election keeps this node from leading. */
  private standing = true;
  /** When the report in flight was sent, or null. */
  private reportSentAt: number | null = null;
  readonly pubsub: ClusterPubSub = createClusterPubSub();
  /** This node's election transitions: the clusterEvents feed, with the last ones kept. */
  readonly transitions = new RecentTransitions();

  constructor(
    private readonly options: {
      readonly election: ElectionService;
      readonly store: EventStore;
      readonly self: { readonly id: string; readonly url: string };
      readonly logger: Logger;
      readonly announcer: GatewayAnnouncer | null;
    },
  ) {
    this.urls.set(options.self.id, options.self.url);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.options.election.subscribe((e) => this.onElectionEvent(e));
    // The election runs before the database is open: it may have made us leader already.
    const s = this.options.election.status();
    if (s.role === 'leader') this.claiming = this.claim(s.term);
    await this.reportRegularly();
    this.reportTimer = setInterval(() => void this.reportRegularly(), REPORT_INTERVAL_MS);
  }

  /** The periodic report, which doubles as the check that the database still answers. */
  private async reportRegularly(): Promise<void> {
    if (this.reportSentAt !== null) {
      if (performance.now() - this.reportSentAt >= REPORT_TIMEOUT_MS)
        this.databaseFailed(new Error(`the database has not answered for ${REPORT_TIMEOUT_MS} ms`));
      return;
    }
    this.reportSentAt = performance.now();
    try {
      await this.report();
      this.databaseReached();
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'cannot report to the Node table');
      this.databaseFailed(error as Error);
    } finally {
      this.reportSentAt = null;
    }
  }

  private databaseFailed(error: Error): void {
    const now = performance.now();
    this.databaseFailingSince ??= now;
    if (this.stopped || !this.standing || now - this.databaseFailingSince < DATABASE_LOSS_MS) return;
    this.standing = false;
    this.options.logger.warn(
      { node: this.options.self.id, err: error.message },
      `the database has failed this node for ${DATABASE_LOSS_MS / 1_000} s: not leading nor standing until it answers again`,
    );
    this.options.election.setEligible(false);
  }

  private databaseReached(): void {
    this.databaseFailingSince = null;
    if (this.stopped || this.standing) return;
    this.standing = true;
    this.options.logger.info(
      { node: this.options.self.id },
      'the database answers again: standing for leader again',
    );
    this.options.election.setEligible(true);
  }

  /** Stops reporting and claiming; resolves once no claim is in flight (the pool can close). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.options.announcer?.cancel();
    await this.claiming;
  }

  /** The fence to write under, or NOT_LEADER naming the leader when one is known. */
  async writeFence(): Promise<Fence> {
    const s = this.options.election.status();
    if (this.canWrite()) return { term: s.term, nodeId: s.id };
    if (s.role === 'leader') {
      throw ApiError.notLeader(
        null,
        `this node leads term ${s.term} but has not yet claimed the write fence; retry`,
      );
    }
    let leader = this.leaderRef();
    // URLs are re-read from the Node table once a second, so a follower that read it before the
    // leader's row existed would send clients to url '' for up to a second: read it now instead.
    if (leader?.url === '') {
      await this.refreshUrls().catch(() => {});
      leader = this.leaderRef();
    }
    throw ApiError.notLeader(leader);
  }

  /**
   * Whether the database answers this node, for /healthz: `standing` is false while it is kept
   * from leading (see DATABASE_LOSS_MS); `failingForMs` counts from the first failure unanswered
   * by a success, 0 when none.
   */
  databaseHealth(): { standing: boolean; failingForMs: number } {
    const since = this.databaseFailingSince;
    return {
      standing: this.standing,
      failingForMs: since === null ? 0 : Math.round(performance.now() - since),
    };
  }

  canWrite(): boolean {
    const s = this.options.election.status();
    return s.role === 'leader' && this.claimedTerm === s.term;
  }

  leaderRef(): LeaderRef | null {
    const leader = this.options.election.status().leader;
    if (!leader) return null;
    return { id: leader, url: this.urls.get(leader) ?? '' };
  }

  /** An append found a newer fence: the election learns the term (and this node steps down). */
  fenceLost(error: NotLeaderError): ApiError {
    this.claimedTerm = null;
    if (error.fence) this.options.election.observeTerm(error.fence.term);
    const fence = error.fence;
    const url = fence ? this.urls.get(fence.nodeId) : undefined;
    return ApiError.notLeader(fence && url ? { id: fence.nodeId, url } : this.leaderRef(), error.message);
  }

  private onElectionEvent(e: TimedElectionEvent): void {
    if (e.kind === 'transition') {
      if (e.from === 'leader' && e.to !== 'leader') {
        this.claimedTerm = null;
        this.options.announcer?.cancel();
      }
      if (e.to === 'leader') this.claiming = this.claim(e.term);
      this.transitions.add({
        nodeId: this.options.self.id,
        term: e.term,
        from: apiRole(e.from),
        to: apiRole(e.to),
        reason: e.reason,
        at: e.at,
      });
      this.report().catch(() => {});
    } else if (e.kind === 'leader' && e.leader) {
      const leader = e.leader;
      // Chained, so that leader changes are published in the order they happened even when one
      // of them waits for the Node table to learn a new leader's URL.
      this.publishing = this.publishing.then(async () => {
        if (!this.urls.has(leader)) await this.refreshUrls().catch(() => {});
        await this.pubsub.publish('leaderChanged', {
          term: e.term,
          leader: {
            id: leader,
            url: this.urls.get(leader) ?? '',
            role: 'LEADER',
            term: e.term,
            lastSeenAt: e.at,
          },
          at: e.at,
        });
      });
    }
  }

  private leads(term: number): boolean {
    const s = this.options.election.status();
    return !this.stopped && s.role === 'leader' && s.term === term;
  }

  private async claim(term: number): Promise<void> {
    const { store, self, logger, announcer } = this.options;
    let delay = 50;
    while (this.leads(term)) {
      try {
        await store.fence.claim({ term, nodeId: self.id }, self.url);
        this.databaseReached();
        if (!this.leads(term)) return;
        this.claimedTerm = term;
        logger.info({ node: self.id, term }, `claimed the write fence for term ${term}`);
        void announcer?.announce(term, () => this.leads(term) && this.claimedTerm === term);
        return;
      } catch (error) {
        if (error instanceof NotLeaderError) {
          logger.warn(
            { node: self.id, term, fence: error.fence },
            'the fence belongs to a newer term; stepping down',
          );
          if (error.fence) this.options.election.observeTerm(error.fence.term);
          return;
        }
        logger.warn(
          { node: self.id, term, err: (error as Error).message },
          'cannot claim the write fence yet; retrying',
        );
        // Past DATABASE_LOSS_MS this steps down, which ends the loop.
        this.databaseFailed(error as Error);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  /** This node's row in the Node table, and everyone's URLs from it. */
  private async report(): Promise<void> {
    const s = this.options.election.status();
    await this.options.store.nodes.report({
      id: s.id,
      url: this.options.self.url,
      role: apiRole(s.role),
      term: s.term,
    });
    await this.refreshUrls();
  }

  private async refreshUrls(): Promise<void> {
    for (const n of await this.options.store.nodes.list()) this.urls.set(n.id, n.url);
  }
}
