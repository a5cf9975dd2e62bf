/**
 * The bridge between the election and the database's write fence. When the election makes this
 * node leader of term T, the keeper claims the fence for T and announces the node to the gateway;
 * commands write under the fence of T once the claim is at the database (withWriteFence: the
 * database orders their appends after the claim, or refuses them). When an append or a claim
 * finds the fence moved to a newer term, `fenceLost` — the one place that handles it — forgets
 * the claimed term and tells the election, which steps down. While the node hands its leadership
 * over (`handOver`), its writes go on under its fence until its successor's claim takes it.
 */
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import type { GatewayAnnouncer } from '../announcer/gateway-announcer.js';
import type { FenceAccess } from '../commands/fence-access.js';
import type { ElectionService, TimedElectionEvent } from '../election/election-service.js';
import type { Fence } from '../store/event-store.js';
import { NotLeaderError } from '../store/store-errors.js';
import type { WriteFence } from '../store/write-fence.js';
import type { DatabaseWatch } from './database-watch.js';
import type { PeerUrls } from './peer-urls.js';

/**
 * How long a write that reaches an elected leader still claiming its fence waits for the claim
 * (which, when the database answers, commits within milliseconds; when it does not, the database
 * watch ends the leadership after a few seconds).
 */
const CLAIM_WAIT_MS = 1_000;
/** The longest pause between two attempts at a claim the database did not take. */
const CLAIM_RETRY_MAX_MS = 250;
/** The longest a new leader's announcement waits for the writes that queued behind its claim. */
const ANNOUNCE_AFTER_WRITES_MS = 50;
/**
 * The longest a write that reaches a node in an election campaign (pre-vote or vote) waits for
 * its outcome. A campaign is decided within a round trip or two; one that gets no majority ends
 * at the node's next election timeout (a new round begins: the write is refused then, as by any
 * follower, rather than held round after round by a node that cannot win).
 */
const CAMPAIGN_WAIT_MS = 1_000;

/** What the command handler needs: the fence to write under, and where to report its loss. */
export class FenceKeeper implements FenceAccess {
  /**
   * The term whose fence this node claimed, or null once it learnt the fence moved on. Writes
   * need it to equal the election's term while the election says leader (a node leads a term at
   * most once, so a claim of an earlier term never lets it write).
   */
  private claimed: number | null = null;
  private claiming: Promise<void> = Promise.resolve();
  /** The term whose claim statement is at the database right now (see withWriteFence). */
  private claimAtDatabase: number | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** Writes let in under the fence and not yet answered. */
  private inFlight = 0;
  private readonly idle = new Set<() => void>();
  /**
   * While a handover runs, the term whose fence this node still writes under — though its
   * election may already follow the successor — until the successor's claim moves it (see handOver).
   */
  private handingOver: number | null = null;
  /** Writes held while this node campaigns, each waiting for the campaign's end (see withWriteFence). */
  private readonly campaignEnds = new Set<() => void>();

  constructor(
    private readonly options: {
      readonly election: Pick<ElectionService, 'status' | 'observeTerm' | 'subscribe'>;
      readonly fence: WriteFence;
      readonly self: { readonly id: string; readonly url: string };
      readonly logger: Logger;
      readonly announcer: Pick<GatewayAnnouncer, 'announce' | 'cancel'> | null;
      readonly urls: PeerUrls;
      /** Told of each claim's success or failure to reach the database. */
      readonly watch: Pick<DatabaseWatch, 'failed' | 'reached'>;
    },
  ) {}

  /** Claims now if the election (which runs before the database is open) already made us leader. */
  start(): void {
    this.unsubscribe = this.options.election.subscribe((e) => this.onElectionEvent(e));
    const s = this.options.election.status();
    if (s.role === 'leader') this.claiming = this.claim(s.term);
  }

  /** Stops claiming; resolves once no claim is in flight (the pool can close). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.options.announcer?.cancel();
    this.endCampaignWaits();
    await this.claiming;
  }

  get claimedTerm(): number | null {
    return this.claimed;
  }

  canWrite(): boolean {
    const s = this.options.election.status();
    return s.role === 'leader' && this.claimed === s.term;
  }

  /**
   * A write that reaches a leader whose claim is at the database (the gateway learns of a new
   * leader from its transition, before the claim commits) does not wait for the claim: it reads
   * and decides meanwhile, and its append, under the fence being claimed, queues at the fence
   * row's lock behind the claim and lands as soon as the claim commits — no round trip between
   * the two. The database decides, as for every append: under the claimed fence, or not at all.
   * An append that reached the fence row before the claim did finds an older fence and writes
   * nothing; that write goes again once the claim has ended.
   *
   * A write that reaches a node campaigning for leadership (the gateway sends a write it could
   * not deliver to a node whose transition says it campaigns, not waiting for the outcome) waits
   * for the end of that campaign (its pre-vote and the vote that follows it): won, it was parsed
   * and validated meanwhile — the request's trip and that work overlap the vote — and it is
   * decided and appended while the claim is at the database, as above; otherwise (lost, or a new
   * round begun) it is refused NOT_LEADER naming the winner when known, as by any follower.
   * Nothing is written before the election is decided and the fence is being claimed: what the
   * write waits for is only the outcome, and the fence decides as for every write.
   */
  async withWriteFence<T>(write: (fence: Fence) => Promise<T>): Promise<T> {
    // Counted from the moment it is let in (no await before this): the announcement waits for it.
    this.inFlight++;
    try {
      if (this.campaigning()) await this.campaignEnd();
      const claiming = this.fenceBeingClaimed();
      if (claiming === null) return await write(await this.writeFence());
      try {
        return await write(claiming);
      } catch (error) {
        if (!fencedBefore(error, claiming.term)) throw error;
        this.options.logger.info(
          { node: this.options.self.id, term: claiming.term },
          'an append reached the fence before the claim did; sending it again once the claim ends',
        );
        await this.claimProgress();
        return await write(await this.writeFence());
      }
    } finally {
      if (--this.inFlight === 0) for (const done of [...this.idle]) done();
    }
  }

  private campaigning(): boolean {
    const { role } = this.options.election.status();
    return !this.stopped && (role === 'pre-candidate' || role === 'candidate');
  }

  /** Resolves when this node's campaign ends (it leads, follows, or stops), or after CAMPAIGN_WAIT_MS. */
  private campaignEnd(): Promise<void> {
    return waitAmong(this.campaignEnds, CAMPAIGN_WAIT_MS);
  }

  private endCampaignWaits(): void {
    for (const done of [...this.campaignEnds]) done();
  }

  /** The fence this node's claim now at the database is taking, if any (and it still leads that term). */
  private fenceBeingClaimed(): Fence | null {
    const s = this.options.election.status();
    const pending = s.role === 'leader' && this.claimed !== s.term && this.claimAtDatabase === s.term;
    return pending ? { term: s.term, nodeId: s.id } : null;
  }

  /**
   * Runs `transfer` (a leadership transfer, up to the successor's claim of the fence) while this
   * node's writes go on under its fence: until the successor's claim commits, the fence is this
   * node's, and an append under it lands before that claim in the log; once the claim has
   * committed, the database refuses it (`fenceLost`: NOT_LEADER naming the successor, and the
   * gateway sends the write there with its key). So nothing a write needs is lost by not holding
   * writes back, and the writes stop only from the claim on, not from the transfer's start — in
   * Raft a leader holds writes during a transfer so that the target's log can catch up, but this
   * log is the database's, not the nodes'. After `transfer`, a node that no longer leads refuses
   * as every follower does.
   */
  async handOver<T>(transfer: () => Promise<T>): Promise<T> {
    if (this.handingOver !== null) {
      throw ApiError.conflict('a leadership transfer of this node is already running');
    }
    const s = this.options.election.status();
    // Only a leader holding its fence hands over (the election refuses anyone else's transfer).
    this.handingOver = s.role === 'leader' && this.claimed === s.term ? s.term : null;
    try {
      return await transfer();
    } finally {
      this.handingOver = null;
    }
  }

  /** Resolves once no write let in is unanswered, or after `limitMs`. */
  private async drain(limitMs: number): Promise<void> {
    if (this.inFlight > 0) await waitAmong(this.idle, limitMs);
  }

  /** The fence a write goes under now, or why there is none (NOT_LEADER, SERVICE_UNAVAILABLE). */
  async writeFence(): Promise<Fence> {
    // Elected but still claiming (the gateway learns of a new leader from its transition, before
    // the claim commits): wait for the claim in flight rather than refuse, bounded.
    if (!this.canWrite() && this.options.election.status().role === 'leader') await this.claimProgress();
    const s = this.options.election.status();
    if (this.canWrite()) return { term: s.term, nodeId: s.id };
    // Handing over: the fence is this node's until the successor's claim (see handOver).
    if (this.handingOver !== null && this.claimed === this.handingOver) {
      return { term: this.handingOver, nodeId: s.id };
    }
    // Still the leader, its claim waiting on the database (a failover under way, a lock): not a
    // NOT_LEADER, which sends the gateway looking for another leader that will not come, but a
    // "retry here with the same key".
    if (s.role === 'leader') {
      throw ApiError.serviceUnavailable(
        `this node leads term ${s.term} but the database has not yet taken its write fence claim; retry with the same Idempotency-Key`,
      );
    }
    throw ApiError.notLeader(
      s.leader === null ? null : { id: s.leader, url: await this.options.urls.lookup(s.leader) },
    );
  }

  /**
   * Resolves when the claim in flight has ended (claimed, lost, stopped), or after CLAIM_WAIT_MS.
   */
  private async claimProgress(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLAIM_WAIT_MS);
    });
    try {
      await Promise.race([this.claiming, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  fenceLost(error: NotLeaderError): ApiError {
    const { election, logger, self, urls } = this.options;
    logger.warn(
      { node: self.id, claimed: this.claimed, fence: error.fence },
      'the write fence belongs to a newer term; stepping down',
    );
    this.claimed = null;
    const fence = error.fence;
    if (fence) election.observeTerm(fence.term);
    const url = fence ? urls.urlOf(fence.nodeId) : '';
    return ApiError.notLeader(
      fence && url ? { id: fence.nodeId, url } : urls.leaderRef(election.status().leader),
      error.message,
    );
  }

  private onElectionEvent(e: TimedElectionEvent): void {
    if (e.kind !== 'transition') return;
    if (e.from === 'leader' && e.to !== 'leader') this.options.announcer?.cancel();
    if (e.to === 'leader') {
      this.options.logger.info(
        { node: this.options.self.id, term: e.term },
        'elected: claiming the write fence',
      );
      this.claiming = this.claim(e.term);
    }
    // After the claim has started (its statement is on its way): a write held through the
    // campaign then finds the fence being claimed and sends its append right behind it. A won
    // pre-vote goes on to the vote; any other transition ends the campaign the writes waited on.
    if (!(e.from === 'pre-candidate' && e.to === 'candidate')) this.endCampaignWaits();
  }

  private leads(term: number): boolean {
    const s = this.options.election.status();
    return !this.stopped && s.role === 'leader' && s.term === term;
  }

  private async claim(term: number): Promise<void> {
    const { fence, self, logger, announcer, watch } = this.options;
    let delay = 50;
    while (this.leads(term)) {
      try {
        this.claimAtDatabase = term;
        const stored = await fence
          .claim({ term, nodeId: self.id }, self.url, () =>
            logger.info({ node: self.id, term }, 'write fence taken'),
          )
          .finally(() => {
            this.claimAtDatabase = null;
          });
        watch.reached();
        if (stored) logger.info({ node: self.id, term, position: stored.position }, 'LeaderElected stored');
        if (!this.leads(term)) return;
        this.claimed = term;
        logger.info({ node: self.id, term }, `claimed the write fence for term ${term}`);
        // The gateway has usually learnt of this leader already (its transition, on the gateway's
        // feed) and sent writes, which queued behind the claim: they are answered first, and the
        // announcement (an HTTP request, ≈ 4 ms of this process's CPU and some of the gateway's)
        // follows, rather than running between the claim and their answers. With none in
        // flight (a gateway that has not heard) it goes at once. A write leaves the fence before
        // its answer is sent (GraphQL and Apollo finish it in the promise jobs that follow, as a
        // rule), so the announcement waits one more turn of the event loop, after those jobs. A
        // node that no longer leads this term by then announces nothing (announcing would cancel
        // the announcement of a newer term).
        const stillLeads = () => this.leads(term) && this.claimed === term;
        void this.drain(ANNOUNCE_AFTER_WRITES_MS)
          .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
          .then(() => (stillLeads() ? announcer?.announce(term, stillLeads) : undefined));
        return;
      } catch (error) {
        if (error instanceof NotLeaderError) {
          this.fenceLost(error);
          return;
        }
        logger.warn(
          { node: self.id, term, err: (error as Error).message },
          'cannot claim the write fence yet; retrying',
        );
        // Past the watch's limit this steps down, which ends the loop.
        watch.failed(error as Error);
        await new Promise((r) => setTimeout(r, delay));
        // Soon again: an attempt during a database failover already waits for the new primary
        // (up to PRIMARY_WAIT_MS), and a long pause here would hold writes after it is back.
        delay = Math.min(delay * 2, CLAIM_RETRY_MAX_MS);
      }
    }
  }
}

/**
 * A refusal because the fence is older than `term` (or was never claimed): the append reached
 * the fence row before this node's claim of `term` did. (A newer or equal fence of another node
 * is a lost fence, handled by fenceLost.)
 */
function fencedBefore(error: unknown, term: number): boolean {
  return error instanceof NotLeaderError && (error.fence === null || error.fence.term < term);
}

/** Resolves when one of `waiters` is called (whoever owns the set calls them all), or after `limitMs`. */
async function waitAmong(waiters: Set<() => void>, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let done = () => {};
  await new Promise<void>((resolve) => {
    done = resolve;
    waiters.add(done);
    timer = setTimeout(done, limitMs);
  });
  clearTimeout(timer);
  waiters.delete(done);
}
