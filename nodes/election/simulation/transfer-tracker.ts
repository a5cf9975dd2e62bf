/**
 * Leadership transfers in the simulation: what was asked and how each ended, and the rule that
 * a leader never stays in a transfer (taking no writes) for longer than one election timeout.
 */
import type { NodeId } from '../messages.js';
import type { ElectionEvent, TransferRefusal } from '../raft-election.js';

export interface TransferCounts {
  requested: number;
  started: number;
  refused: number;
  aborted: number;
  /** Transfer campaigns that the target won. */
  completed: number;
}

export function emptyTransferCounts(): TransferCounts {
  return { requested: 0, started: 0, refused: 0, aborted: 0, completed: 0 };
}

export class TransferTracker {
  readonly counts: TransferCounts = emptyTransferCounts();
  readonly refusals = new Map<TransferRefusal, number>();
  /** Leader → the tick its transfer started. */
  private readonly startedAt = new Map<NodeId, number>();
  /** Nodes campaigning because of a TimeoutNow. */
  private readonly transferCandidates = new Set<NodeId>();

  constructor(
    /** The longest a transfer may run, in ticks: the minimum election timeout. */
    private readonly limit: number,
    private readonly fail: (violation: string) => void,
  ) {}

  requested(): void {
    this.counts.requested++;
  }

  refused(reason: TransferRefusal): void {
    this.counts.refused++;
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  observe(id: NodeId, events: readonly ElectionEvent[], now: number): void {
    for (const e of events) {
      if (e.kind === 'transfer') {
        if (e.outcome === 'started') {
          this.counts.started++;
          this.startedAt.set(id, now);
        } else {
          this.counts.aborted++;
          this.startedAt.delete(id);
        }
      } else if (e.kind === 'transition') {
        if (e.from === 'leader') this.startedAt.delete(id);
        if (e.to === 'leader' && this.transferCandidates.has(id)) this.counts.completed++;
        if (e.to === 'candidate' && e.reason === 'leadership transfer') this.transferCandidates.add(id);
        else this.transferCandidates.delete(id);
      }
    }
  }

  crashed(id: NodeId): void {
    this.startedAt.delete(id);
    this.transferCandidates.delete(id);
  }

  /** Whether any leader is in a transfer now. */
  inProgress(): boolean {
    return this.startedAt.size > 0;
  }

  /** After every step: no transfer may outlive its election timeout. */
  check(now: number, at: string): void {
    for (const [id, started] of this.startedAt) {
      if (now - started > this.limit) {
        this.fail(`${at}: ${id}'s transfer started at t=${started} still runs after ${this.limit} ticks`);
      }
    }
  }
}
