/**
 * Raft's election safety properties, checked against every node after every simulated step.
 */
import type { NodeId } from '../messages.js';
import type { ElectionStatus } from '../raft-election.js';

export class InvariantChecker {
  readonly violations: string[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly highestTerm = new Map<NodeId, number>();
  /** "node@term" → the candidate it voted for in that term. */
  private readonly voteOf = new Map<string, NodeId>();

  /** Check one node's state; `at` says when, for the report. */
  observe(s: ElectionStatus, at: string): void {
    if (s.role === 'leader') {
      const other = this.leaderOfTerm.get(s.term);
      if (other === undefined) this.leaderOfTerm.set(s.term, s.id);
      else if (other !== s.id) this.fail(`${at}: two leaders in term ${s.term}: ${other} and ${s.id}`);
    }
    // Writes are taken by a leader only, and never while it hands over its leadership.
    if (s.acceptingWrites !== (s.role === 'leader' && s.transferTarget === null)) {
      this.fail(
        `${at}: ${s.id} (${s.role}, transferring to ${s.transferTarget ?? 'none'}) says acceptingWrites=${s.acceptingWrites}`,
      );
    }
    if (s.transferTarget !== null && s.role !== 'leader')
      this.fail(`${at}: ${s.id} is a ${s.role} with a transfer`);
    const before = this.highestTerm.get(s.id) ?? 0;
    if (s.term < before) this.fail(`${at}: ${s.id}'s term went back from ${before} to ${s.term}`);
    else this.highestTerm.set(s.id, s.term);
    if (s.votedFor !== null) {
      const key = `${s.id}@${s.term}`;
      const earlier = this.voteOf.get(key);
      if (earlier === undefined) this.voteOf.set(key, s.votedFor);
      else if (earlier !== s.votedFor) {
        this.fail(`${at}: ${s.id} voted twice in term ${s.term}: ${earlier} then ${s.votedFor}`);
      }
    }
  }

  leaders(): ReadonlyMap<number, NodeId> {
    return this.leaderOfTerm;
  }

  fail(violation: string): void {
    this.violations.push(violation);
  }
}
