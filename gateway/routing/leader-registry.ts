/**
 * Who leads, as far as the gateway knows: the node that last announced leadership with the
 * highest term. Announcements arrive signed (see http/announce-route.ts); a lower term than the
 * one known is refused, because Raft never goes back in terms and a delayed announcement from a
 * deposed leader must not pull writes back to it. Writers waiting for "a leader newer than the
 * one that just failed me" await `newerThan`. The registry also knows which nodes campaign for
 * leadership right now (their transitions): a write whose leader failed may go to one of them
 * rather than wait for the election's outcome (see LeaderRouter).
 */
import { EventEmitter, once } from 'node:events';

export interface KnownLeader {
  readonly id: string;
  readonly url: string;
  readonly term: number;
  /** When the gateway learned of it. */
  readonly at: Date;
}

/** A node campaigning for leadership (pre-vote or vote), as its transition told. */
export interface Campaign {
  readonly id: string;
  readonly url: string;
  /** The term of its transition: a pre-vote's is the term it is in, a vote's the one it asks for. */
  readonly term: number;
  readonly campaign: true;
}

export type AcceptResult =
  | { readonly kind: 'accepted'; readonly leader: KnownLeader; readonly changed: boolean }
  | { readonly kind: 'refused'; readonly reason: string; readonly known: KnownLeader };

export class LeaderRegistry {
  private leader: KnownLeader | null = null;
  /** Per node id, its campaign under way. */
  private readonly campaigns = new Map<string, Campaign>();
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every waiting request adds a listener; hundreds may wait through one failover.
    this.emitter.setMaxListeners(0);
  }

  current(): KnownLeader | null {
    return this.leader;
  }

  /** Take an announced (or observed) leader. Same term and node again is a refresh. */
  accept(candidate: { id: string; url: string; term: number }, now = new Date()): AcceptResult {
    const known = this.leader;
    if (known && candidate.term < known.term) {
      return { kind: 'refused', reason: `term ${candidate.term} is older than ${known.term}`, known };
    }
    if (known && candidate.term === known.term && candidate.id !== known.id) {
      // Raft elects at most one leader per term: two claims for one term mean a forgery or a bug.
      return { kind: 'refused', reason: `term ${known.term} is already led by ${known.id}`, known };
    }
    const changed = !known || known.term !== candidate.term || known.url !== candidate.url;
    const leader: KnownLeader = changed ? { ...candidate, at: now } : known;
    this.leader = leader;
    // A campaign of an earlier term is over (its node follows this leader, or soon will).
    for (const [id, c] of this.campaigns)
      if (c.term < leader.term || id === leader.id) this.campaigns.delete(id);
    if (changed) {
      this.emitter.emit('leader', leader);
      this.emitter.emit('change');
    }
    return { kind: 'accepted', leader, changed };
  }

  /** A node's transition into a campaign (`campaigning`) or out of it. */
  campaign(node: { id: string; url: string; term: number }, campaigning: boolean): void {
    if (!campaigning) {
      this.campaigns.delete(node.id);
      return;
    }
    // A campaign for a term already led is over before it starts.
    if (this.leader && node.term < this.leader.term) return;
    this.campaigns.set(node.id, { ...node, campaign: true });
    this.emitter.emit('change');
  }

  /** Forget the campaigns of the node at `url` (its transitions are no longer heard). */
  forgetCampaignsAt(url: string): void {
    for (const [id, c] of this.campaigns) if (c.url === url) this.campaigns.delete(id);
  }

  /** Each new leader, as it is accepted. Returns the unsubscribe function. */
  onChange(listener: (leader: KnownLeader) => void): () => void {
    this.emitter.on('leader', listener);
    return () => this.emitter.off('leader', listener);
  }

  /**
   * A leader other than `failed` (a higher term, or the same term at another URL), or null when
   * none arrives before `deadline` (epoch ms) or `signal` aborts. With `campaigns`, a node
   * campaigning in `failed`'s term or a later one (not `failed`'s node, none in `tried`, by
   * `campaignKey`, and only those `usable` says may take a write) will do too, until such a leader
   * is known.
   */
  async newerThan(
    failed: KnownLeader | null,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<KnownLeader | null>;
  async newerThan(
    failed: KnownLeader | null,
    deadline: number,
    signal: AbortSignal | undefined,
    campaigns: CampaignChoice,
  ): Promise<KnownLeader | Campaign | null>;
  async newerThan(
    failed: KnownLeader | null,
    deadline: number,
    signal?: AbortSignal,
    campaigns?: CampaignChoice,
  ): Promise<KnownLeader | Campaign | null> {
    const isNewer = (l: KnownLeader | null): l is KnownLeader =>
      l !== null &&
      (failed === null || l.term > failed.term || (l.term === failed.term && l.url !== failed.url));
    const pick = (): KnownLeader | Campaign | null => {
      if (isNewer(this.leader)) return this.leader;
      if (!campaigns || failed === null) return null;
      let best: Campaign | null = null;
      for (const c of this.campaigns.values()) {
        if (c.id === failed.id || c.term < failed.term || campaigns.tried.has(campaignKey(c))) continue;
        if (campaigns.usable && !campaigns.usable(c)) continue;
        if (best === null || c.term > best.term) best = c;
      }
      return best;
    };
    const now = pick();
    if (now) return now;
    const wait = deadline - Date.now();
    if (wait <= 0) return null;
    const timeout = AbortSignal.timeout(wait);
    const both = signal ? AbortSignal.any([timeout, signal]) : timeout;
    try {
      for (;;) {
        await once(this.emitter, 'change', { signal: both });
        const found = pick();
        if (found) return found;
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') return null;
      throw error;
    }
  }
}

/** Which campaigns a write may go to (LeaderRegistry.newerThan). */
export interface CampaignChoice {
  /** Campaigns it went to already (campaignKey). */
  readonly tried: ReadonlySet<string>;
  /** Whether it may go to this one (its node answers its health checks, say). */
  readonly usable?: (campaign: Campaign) => boolean;
}

/** What tells two campaigns apart: a node's pre-vote and its vote are two, as are two terms. */
export function campaignKey(c: Campaign): string {
  return `${c.id}@${c.term}`;
}
