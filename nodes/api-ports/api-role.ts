import type { Role } from '../../api/ports.js';
import type { Role as ElectionRole } from '../election/raft-election.js';

/** The API's three roles. A pre-candidate is campaigning (its PreVote round), so: CANDIDATE. */
export function apiRole(role: ElectionRole): Role {
  if (role === 'leader') return 'LEADER';
  if (role === 'follower') return 'FOLLOWER';
  return 'CANDIDATE';
}
