/**
 * A simulated network in virtual time: every message may be lost, duplicated, delayed (and so
 * reordered), or cut by a partition, as the current fault settings say. Links are directed, so
 * partial and one-way partitions are expressible (A hears B but B does not hear A).
 */
import type { ElectionMessage, NodeId } from '../messages.js';
import type { Prng } from './prng.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly loss: number;
  /** Probability that a message is delivered twice. */
  readonly duplication: number;
  /** Each delivery is delayed by a uniform number of ticks in [minDelay, maxDelay]; min >= 1. */
  readonly minDelay: number;
  readonly maxDelay: number;
}

export const CALM: NetworkFaults = { loss: 0, duplication: 0, minDelay: 1, maxDelay: 2 };

export class SimulatedNetwork {
  private faults: NetworkFaults = CALM;
  /** Directed links that are cut, as "from>to". */
  private readonly cut = new Set<string>();
  private readonly inFlight = new Map<number, ElectionMessage[]>();
  sent = 0;
  delivered = 0;
  dropped = 0;

  constructor(private readonly rng: Prng) {}

  setFaults(faults: NetworkFaults): void {
    this.faults = faults;
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Split the nodes into groups that cannot reach each other. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) this.cutLink(a, b);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  connected(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  describeCuts(): string {
    return [...this.cut].sort().join(' ') || 'none';
  }

  send(now: number, m: ElectionMessage): void {
    this.sent++;
    if (this.rng.chance(this.faults.loss)) {
      this.dropped++;
      return;
    }
    const copies = this.rng.chance(this.faults.duplication) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at =
        now + this.rng.int(this.faults.minDelay, Math.max(this.faults.minDelay, this.faults.maxDelay));
      const bucket = this.inFlight.get(at);
      if (bucket) bucket.push(m);
      else this.inFlight.set(at, [m]);
    }
  }

  /** The messages due at `now`, in random order; those crossing a cut link are dropped. */
  due(now: number): ElectionMessage[] {
    const bucket = this.inFlight.get(now);
    if (!bucket) return [];
    this.inFlight.delete(now);
    const out: ElectionMessage[] = [];
    for (const m of this.rng.shuffle(bucket)) {
      if (this.connected(m.from, m.to)) out.push(m);
      else this.dropped++;
    }
    return out;
  }
}
