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
      return `${head}${m.preVote ? ' pre-vote' : ''}${m.transfer ? ' transfer' : ''}`;
    case 'RequestVoteReply':
      return `${head}${m.preVote ? ' pre-vote' : ''} ${m.granted ? 'granted' : 'refused'}`;
    case 'AppendEntries':
      return head;
    case 'AppendEntriesReply':
      return `${head} ${m.success ? 'ok' : 'rejected'}`;
    case 'TimeoutNow':
      return head;
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
    case 'transfer':
      return `${node} ${e.outcome === 'started' ? 'starts' : 'aborts'} leadership transfer to ${e.target} in term ${e.term}`;
    case 'timeout now':
      return `${node} ${e.campaigned ? 'campaigns on' : 'ignores'} TimeoutNow from ${e.from} in term ${e.term}: ${e.reason}`;
  }
}

export function describeHardState(node: string, h: HardState): string {
  return `${node} persists term=${h.term} vote=${h.votedFor ?? '-'}`;
}

export function describeStatus(s: ElectionStatus): string {
  const transfer = s.transferTarget === null ? '' : ` transferring-to=${s.transferTarget}`;
  return `${s.id} ${s.role} term=${s.term} vote=${s.votedFor ?? '-'} leader=${s.leader ?? '-'}${transfer}`;
}
