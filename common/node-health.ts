/**
 * A node's `/healthz` body: its election state, whether it may write, whether its database
 * answers it, and its datagram counters. The node builds it with this type and the gateway (and
 * the chaos tools) read it with this schema, so the two ends cannot disagree about what a node
 * may say — a node in a PreVote round included.
 */
import { z } from 'zod';

export const HEALTHZ_PATH = '/healthz';

/**
 * Every role of the election. `pre-candidate` is a PreVote round: the node asks whether it could
 * win before it raises its term, so it disturbs no one and still serves reads like a follower (an
 * isolated node stays in it).
 */
export const ELECTION_ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;
export type ElectionRole = (typeof ELECTION_ROLES)[number];

/** The contract's `Role` (FOLLOWER, CANDIDATE, LEADER) of an election role: campaigning is CANDIDATE. */
export function contractRole(role: ElectionRole): 'FOLLOWER' | 'CANDIDATE' | 'LEADER' {
  if (role === 'leader') return 'LEADER';
  if (role === 'follower') return 'FOLLOWER';
  return 'CANDIDATE';
}

const count = z.number().int().min(0);

export const nodeHealthSchema = z.object({
  id: z.string().min(1),
  url: z.string(),
  role: z.enum(ELECTION_ROLES),
  term: count,
  leader: z.string().nullable(),
  leaderUrl: z.string().nullable(),
  votedFor: z.string().nullable(),
  /** It leads and holds the write fence of its term. */
  writable: z.boolean(),
  /** `standing` is false while the database has failed it for a while (it does not stand for leader). */
  database: z.object({ standing: z.boolean(), failingForMs: count }),
  /** When the node's process started (ISO-8601): a reader tells a restarted node by it. Absent from nodes before 2026-12-03. */
  startedAt: z.string().optional(),
  datagrams: z.object({
    received: count,
    sent: count,
    /** By reason, and their `total`. */
    dropped: z.object({ total: count }).catchall(count),
    /** Leader probes refused: nobody listened at a peer's address. Absent from nodes before 2026-12-04. */
    refused: count.optional(),
  }),
});
export type NodeHealth = z.infer<typeof nodeHealthSchema>;

/** The body read as a NodeHealth, or what in it breaks the contract (each field and why). */
export function parseNodeHealth(
  json: unknown,
): { ok: true; health: NodeHealth } | { ok: false; problem: string } {
  const parsed = nodeHealthSchema.safeParse(json);
  if (parsed.success) return { ok: true, health: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'the body'}: ${i.message}`);
  return { ok: false, problem: `the ${HEALTHZ_PATH} body breaks the contract (${problems.join('; ')})` };
}
