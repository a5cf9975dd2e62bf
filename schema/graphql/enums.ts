/** GraphQL enums. The values are the strings the domain uses, so DTOs pass through unchanged. */
import { registerEnumType } from 'type-graphql';
import { TASK_STATUSES } from '../events.js';

export const Role = { FOLLOWER: 'FOLLOWER', CANDIDATE: 'CANDIDATE', LEADER: 'LEADER' } as const;
export type Role = (typeof Role)[keyof typeof Role];

// Derived from the domain's list so the two can never drift apart.
export const TaskStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, s])) as {
  readonly [S in (typeof TASK_STATUSES)[number]]: S;
};
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

registerEnumType(Role, { name: 'Role', description: 'A node’s role in the Raft election.' });
registerEnumType(TaskStatus, { name: 'TaskStatus' });
