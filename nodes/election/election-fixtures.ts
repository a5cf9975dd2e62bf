/**
 * Nodes in known states and the messages peers send them, for the unit tests of the election
 * rules: node `a` of the cluster a, b, c, with fixed timeouts unless a test says otherwise.
 */
import assert from 'node:assert/strict';
import type { ElectionMessage, NodeId } from './messages.js';
import { type ElectionConfig, type HardState, type Output, RaftElection } from './raft-election.js';

export const MIN = 10;
export const MAX = 20;
export const HB = 3;

export function makeNode(
  options: {
    id?: NodeId;
    voters?: NodeId[];
    stored?: HardState;
    preVote?: boolean;
    checkQuorum?: boolean;
    timeout?: number;
    heartbeat?: number;
    leaderProbe?: boolean;
  } = {},
): RaftElection {
  const config: ElectionConfig = {
    id: options.id ?? 'a',
    voters: options.voters ?? ['a', 'b', 'c'],
    electionTimeoutMin: MIN,
    electionTimeoutMax: MAX,
    heartbeatInterval: options.heartbeat ?? HB,
    leaderProbe: options.leaderProbe ?? false,
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    // Deterministic "randomness": always the same timeout unless a case says otherwise.
    randomInt: (min, max) => Math.min(max, Math.max(min, options.timeout ?? MIN)),
  };
  return new RaftElection(config, options.stored);
}

export function ticks(node: RaftElection, n: number): Output[] {
  return Array.from({ length: n }, () => node.tick());
}

export function allMessages(outs: Output[]): ElectionMessage[] {
  return outs.flatMap((o) => o.messages);
}

export const vote = (from: NodeId, term: number, preVote = false): ElectionMessage => ({
  type: 'RequestVote',
  from,
  to: 'a',
  term,
  preVote,
});
export const voteReply = (
  from: NodeId,
  term: number,
  granted: boolean,
  preVote = false,
): ElectionMessage => ({
  type: 'RequestVoteReply',
  from,
  to: 'a',
  term,
  granted,
  preVote,
});
export const heartbeat = (from: NodeId, term: number): ElectionMessage => ({
  type: 'AppendEntries',
  from,
  to: 'a',
  term,
});
export const heartbeatReply = (from: NodeId, term: number, success = true): ElectionMessage => ({
  type: 'AppendEntriesReply',
  from,
  to: 'a',
  term,
  success,
});

/** Drive a 3-node `a` to leader in term 1 (pre-vote, then vote). */
export function leaderAtTerm1(options: { checkQuorum?: boolean } = {}): RaftElection {
  const n = makeNode(options);
  ticks(n, MIN);
  n.step(voteReply('b', 1, true, true));
  n.step(voteReply('b', 1, true));
  assert.equal(n.status().role, 'leader');
  return n;
}

/** Drive `a` to follower of `b` in the given term. */
export function followerOf(
  leader: NodeId,
  term: number,
  options: { checkQuorum?: boolean } = {},
): RaftElection {
  const n = makeNode(options);
  n.step(heartbeat(leader, term));
  assert.deepEqual([n.status().role, n.status().leader, n.status().term], ['follower', leader, term]);
  return n;
}
