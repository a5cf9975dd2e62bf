/**
 * Who leads, as far as the gateway knows: the node that last announced leadership with the
 * highest term. Announcements arrive signed (see http/announce-route.ts); a lower term than the
 * one known is refused, because Raft never goes back in terms and a delayed announcement from a
 * deposed leader must not pull writes back to it. Writers waiting for "a leader newer than the
 * one that just failed me" await `newerThan`.
 */
import { EventEmitter, once } from 'node:events';

export interface KnownLeader {
  readonly id: string;
  readonly url: string;
  readonly term: number;
  /** When the gateway learned of it. */
  readonly at: Date;
}

export type AcceptResult =
  | { readonly kind: 'accepted'; readonly leader: KnownLeader; readonly changed: boolean }
  | { readonly kind: 'refused'; readonly reason: string; readonly known: KnownLeader };

export class LeaderRegistry {
  private leader: KnownLeader | null = null;
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
    if (changed) this.emitter.emit('leader', leader);
    return { kind: 'accepted', leader, changed };
  }

  /** Each new leader, as it is accepted. Returns the unsubscribe function. */
  onChange(listener: (leader: KnownLeader) => void): () => void {
    this.emitter.on('leader', listener);
    return () => this.emitter.off('leader', listener);
  }

  /**
   * A leader other than `failed` (a higher term, or the same term at another URL), or null when
   * none arrives before `deadline` (epoch ms) or `signal` aborts.
   */
  async newerThan(
    failed: KnownLeader | null,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<KnownLeader | null> {
    const isNewer = (l: KnownLeader | null): l is KnownLeader =>
      l !== null &&
      (failed === null || l.term > failed.term || (l.term === failed.term && l.url !== failed.url));
    if (isNewer(this.leader)) return this.leader;
    const wait = deadline - Date.now();
    if (wait <= 0) return null;
    const timeout = AbortSignal.timeout(wait);
    const both = signal ? AbortSignal.any([timeout, signal]) : timeout;
    try {
      for (;;) {
        const [leader] = (await once(this.emitter, 'leader', { signal: both })) as [KnownLeader];
        if (isNewer(leader)) return leader;
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') return null;
      throw error;
    }
  }
}
