/**
 * A pooled connection made ready to append before anyone waits on it. A PostgreSQL session
 * compiles a PL/pgSQL function and plans its statements on their first run, and runs them cold
 * the first time they meet rows (the insert's indexes and trigger, the projection's statements,
 * foreign keys): a new connection's first `append_batch` took ≈ 16 ms where later ones take
 * ≈ 1.5 ms, and opening the connection (TCP, start-up, SCRAM) ≈ 13 ms more. A newly elected
 * leader paid both, twice (its fence claim and its first write each on a fresh connection), on
 * the path from election to first acknowledged write. So the node's pool opens its connections
 * at start, keeps them (no idle reaping), and rehearses on each one what a new leader runs first:
 * a fence claim (`claim_fence` on no row: nothing written, no row locked; ./claim-fence.sql.ts)
 * whose LeaderElected is appended for real as a rehearsal, then a task's and a listing's first
 * events. A rehearsed append (./rehearsal-fence.ts) runs in full without the fence lock and keeps
 * nothing, so a follower warming up never delays the leader's appends. Measured on an idle
 * machine, a warmed connection's first real claim and append: 4–6 ms each when the rehearsals ran
 * on no rows (before 2026-12-03), ≈ 2 ms when they run on rows. (Not a connection that waited on
 * a standby for its promotion, primary-locator.ts: there the write waits on the warm-up.)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { streams } from '../../schema/events.js';
import { appendBatchCall, type FencedAppend, type StreamAppend } from './event-log.js';
import { REHEARSAL_FENCE, rehearsalAnswer } from './rehearsal-fence.js';

/** How many connections the node's pool keeps open and warm (the rest open on demand). */
export const WARM_CONNECTIONS = 4;

export async function warmConnection(client: pg.Client): Promise<void> {
  const { claim, writes } = rehearsedAppends();
  await rehearse(client.query(`select claim_fence('{"rehearse": true}'::jsonb, $1::jsonb)`, [claim]), 1);
  await rehearse(client.query(`select append_batch($1::jsonb, '{}'::bytea[])`, [writes]), 2);
}

/** The `p_appends` of the rehearsals: a claim's LeaderElected; a new task's and a new listing's. */
function rehearsedAppends(): { claim: string; writes: string } {
  const fenced = (appends: StreamAppend[], idempotencyKey?: string): FencedAppend => ({
    fence: REHEARSAL_FENCE,
    appends,
    options: idempotencyKey === undefined ? {} : { idempotencyKey },
  });
  const id = randomUUID();
  const leaderElected = { nodeId: REHEARSAL_FENCE.nodeId, term: 1, url: '' };
  const claim = appendBatchCall([
    fenced([
      {
        stream: streams.cluster,
        expectedVersion: 'any',
        events: [{ type: 'LeaderElected', data: leaderElected }],
      },
    ]),
  ]);
  const task = {
    id,
    title: 'rehearsal',
    description: null,
    status: 'TODO',
    createdBy: REHEARSAL_FENCE.nodeId,
  } as const;
  const listing = {
    url: 'https://rehearsal.invalid/item',
    title: 'rehearsal',
    price: 1,
    currency: 'EUR',
    priceEur: 1,
    scrapedAt: new Date().toISOString(),
  };
  const writes = appendBatchCall([
    fenced(
      [{ stream: streams.task(id), expectedVersion: 0, events: [{ type: 'TaskCreated', data: task }] }],
      randomUUID(),
    ),
    fenced([
      {
        stream: streams.listing(randomBytes(16).toString('hex')),
        expectedVersion: 0,
        events: [{ type: 'ListingAdded', data: listing }],
      },
    ]),
  ]);
  return { claim: claim.appends, writes: writes.appends };
}

/**
 * A rehearsal ends with its own failure, whose detail is the answer it would have given: each of
 * its `events` inserted, or the rehearsal did not run what it is for (a schema that changed
 * under it, say) — said at once rather than left cold.
 */
async function rehearse(query: Promise<unknown>, events: number): Promise<void> {
  const ended = await query.then(
    () => new Error('append_batch answered a rehearsal without refusing it: is migration 0014 applied?'),
    (error: unknown) => error,
  );
  const answer = rehearsalAnswer(ended);
  if (answer === null) throw ended;
  const inserted = (JSON.parse(answer) as { inserted?: unknown[] }).inserted?.length ?? 0;
  if (inserted !== events)
    throw new Error(`a rehearsal inserted ${inserted} events, not ${events}: ${answer}`);
}
