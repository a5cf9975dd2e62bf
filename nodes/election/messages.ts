/**
 * The election's wire vocabulary: what one node says to another.
 *
 * Raft's RequestVote and AppendEntries, reduced to what leader election needs. The cluster's
 * log lives in PostgreSQL (fenced by term), not in Raft, so no log indexes travel here.
 */

export type NodeId = string;

/** RequestVote. With `preVote` it is a PreVote probe: `term` is the term the sender would
 * campaign at, and neither side changes its own term because of it. With `transfer` the sender
 * campaigns because the leader handed over to it (TimeoutNow): voters grant it although they
 * heard from that leader recently. Absent means false (and keeps older peers able to read it). */
export interface RequestVote {
  readonly type: 'RequestVote';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly preVote: boolean;
  readonly transfer?: boolean;
}

export interface RequestVoteReply {
  readonly type: 'RequestVoteReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** A heartbeat: AppendEntries with no entries. */
export interface AppendEntries {
  readonly type: 'AppendEntries';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendEntriesReply {
  readonly type: 'AppendEntriesReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly success: boolean;
}

/** Leadership transfer (Raft thesis §3.10): the leader of `term` tells its chosen successor to
 * campaign at once, without waiting for its election timeout and without PreVote. */
export interface TimeoutNow {
  readonly type: 'TimeoutNow';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export type ElectionMessage =
  | RequestVote
  | RequestVoteReply
  | AppendEntries
  | AppendEntriesReply
  | TimeoutNow;

export const MESSAGE_TYPES = [
  'RequestVote',
  'RequestVoteReply',
  'AppendEntries',
  'AppendEntriesReply',
  'TimeoutNow',
] as const;

/**
 * An answer to another node's message. It may promise what the stored term and vote must keep (a
 * vote granted, a leader acknowledged), so it leaves only once they are stored; a request promises
 * nothing and may leave before (see ElectionService).
 */
export function isReply(m: ElectionMessage): boolean {
  return m.type === 'RequestVoteReply' || m.type === 'AppendEntriesReply';
}
