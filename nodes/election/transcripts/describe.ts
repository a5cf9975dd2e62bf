/**
 * One line of plain text for each thing the election core outputs: the vocabulary of the
 * interaction transcripts (and of anyone reading a trace).
 */
import type { ElectionMessage } from '../messages.js';
import type { ElectionEvent, ElectionStatus, HardState } from '../raft-election.js';

export function describeMessage(m: ElectionMessage): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre-vote' : ''}`;
    case 'RequestVoteReply':
      return `${head}${m.preVote ? ' pre-vote' : ''} ${m.granted ? 'granted' : 'refused'}`;
    case 'AppendEntries':
      return head;
    case 'AppendEntriesReply':
      return `${head} ${m.success ? 'ok' : 'rejected'}`;
  }
}

export function describeEvent(node: string, e: ElectionEvent): string {
  switch (e.kind) {
    case 'transition':
      return `${node} ${e.from} -> ${e.to} at term ${e.term} (${e.reason}${e.peer ? `, from ${e.peer}` : ''})`;
    case 'vote':
      return `${node} ${e.granted ? 'grants' : 'refuses'} ${e.preVote ? 'pre-vote' : 'vote'} to ${e.candidate} for term ${e.term}: ${e.reason}`;
    case 'leader':
      if (e.leader === null) return `${node} knows no leader in term ${e.term}`;
      return e.leader === node
        ? `${node} leads in term ${e.term}`
        : `${node} follows ${e.leader} in term ${e.term}`;
  }
}

export function describeHardState(node: string, h: HardState): string {
  return `${node} persists term=${h.term} vote=${h.votedFor ?? '-'}`;
}

export function describeStatus(s: ElectionStatus): string {
  return `${s.id} ${s.role} term=${s.term} vote=${s.votedFor ?? '-'} leader=${s.leader ?? '-'}`;
}
