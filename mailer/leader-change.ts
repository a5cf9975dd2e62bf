/**
 * A leader change as the gateway's `leaderChanged` subscription delivers it, checked with zod:
 * the alert service trusts a term only once it is a whole number, because the term is what it
 * remembers to never alert twice.
 */
import { z } from 'zod';
import { graphql } from '../schema/generated/index.js';

export const LEADER_CHANGED_SUBSCRIPTION = graphql(
  `subscription LeaderChanged { leaderChanged { term leader { id url role term lastSeenAt } at } }`,
);
/** The current leader, asked for after every (re)connection to learn of a change that was missed. */
export const CURRENT_LEADER_QUERY = graphql(
  `query CurrentLeader { cluster { term leader { id url role term lastSeenAt } } }`,
);

export const leaderChangeSchema = z.object({
  term: z.number().int().min(1),
  leader: z.object({
    id: z.string().min(1),
    url: z.string(),
    role: z.string(),
    term: z.number().int(),
    lastSeenAt: z.string().nullable().optional(),
  }),
  at: z.string().min(1),
  /** How the mailer learned of it: pushed by the subscription, or found on (re)connecting. */
  source: z.enum(['subscription', 'catch-up']).default('subscription'),
});
export type LeaderChange = z.infer<typeof leaderChangeSchema>;
