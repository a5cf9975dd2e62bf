/**
 * A pooled connection made ready to append before anyone waits on it. A PostgreSQL session
 * compiles a PL/pgSQL function and plans its statements on their first run, and runs them cold
 * the first time they meet rows (the insert's indexes and trigger, the projection's statements,
 * foreign keys): a new connection's first `append_batch` took ≈ 16 ms where later ones take
 * ≈ 1.5–2 ms, and opening the connection (TCP, start-up, SCRAM) ≈ 13 ms more. A newly elected
 * leader paid both, twice (its fence claim and its first write each on a fresh connection), on
 * the path from election to first acknowledged write. So the node's pool opens its connections
 * at start, keeps them (no idle reaping), and rehearses on each one what a new leader runs first:
 * a fence claim (`claim_fence` rehearsed: its statements on no row; ./claim-fence.sql.ts) whose
 * LeaderElected goes through `append_batch` as a rehearsal, then a task's and a listing's first
 * events, rehearsed too (./rehearsal-fence.ts: run on rows without the fence lock, then undone),
 * so a follower warming up never delays the leader's appends. Measured on an idle machine, a
 * warmed connection's first real claim and append, p50 of 12 fresh connections: 4.7–4.8 and
 * 4.2–4.8 ms when the warm-up ran every statement on no rows (session 11), ≈ 3.9 and 3.0 with the
 * rehearsals on rows (session 12). (Not a connection that waited on a standby for its promotion,
 * primary-locator.ts: there the write waits on the warm-up.)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { streams } from '../../schema/events.js';
import { appendBatchCall, type BatchResult, type FencedAppend, type StreamAppend } from './event-log.js';
import { REHEARSAL_FENCE } from './rehearsal-fence.js';

/** How many connections the node's pool keeps open and warm (the rest open on demand). */
export const WARM_CONNECTIONS = 4;

/**
 * How many times each of the first connections a pool opens (WARM_CONNECTIONS, at start) rehearses.
 * PostgreSQL plans a PL/pgSQL statement anew for its parameters on each of its first five runs in
 * a session, and on the sixth settles on a generic plan it keeps (the plan cache's rule):
 * rehearsed once, a real claim's own statements (the Node row, the fence row's lock and write)
 * were planned again at the claim — the one real run a connection makes of them, a leader claiming
 * once per term. Rehearsed six times, a fresh connection's first real claim took 1.76 ms at p50
 * instead of 2.98, and its first append 1.09 instead of 1.46 (`npm run bench:claim`). Each run
 * after the first costs ≈ 3 ms, so a connection opened later, which a query waits for, rehearses
 * once (after a database failover has replaced the first ones, a claim plans again).
 */
export const START_REHEARSALS = 6;

/**
 * Rehearses a claim and a task's and a listing's first appends, `runs` times; throws if they did
 * not run.
 */
export async function warmConnection(client: pg.Client, runs = 1): Promise<void> {
  for (let i = 0; i < runs; i++) await rehearseOnce(client);
}

async function rehearseOnce(client: pg.Client): Promise<void> {
  const { claim, writes } = rehearsedAppends();
  const claimed = await client.query<{ result: { kind?: unknown; appended?: BatchResult } }>(
    `select claim_fence('{"rehearse": true}'::jsonb, $1::jsonb) as result`,
    [claim],
  );
  const { kind, appended } = claimed.rows[0]?.result ?? {};
  if (kind !== 'rehearsed') throw new Error(`claim_fence answered a rehearsal with ${String(kind)}`);
  checkRehearsed(appended, 1);
  const written = await client.query<{ result: BatchResult }>(
    `select append_batch($1::jsonb, '{}'::bytea[]) as result`,
    [writes],
  );
  checkRehearsed(written.rows[0]?.result, 2);
}

/**
 * The pool's warm-up: a connection whose rehearsal failed (a schema changed under it, say) still
 * serves — the query waiting for it is not failed for a warm-up — and the failure is reported.
 */
async function prepareConnection(client: pg.Client, runs: number): Promise<void> {
  await warmConnection(client, runs).catch((error: unknown) =>
    process.emitWarning(`a pooled connection's warm-up failed: ${(error as Error).message}`),
  );
}

/**
 * The warm-up of one pool: its first WARM_CONNECTIONS connections (opened at start, before any
 * query waits for them) rehearse START_REHEARSALS times, later ones once.
 */
export function poolWarmUp(): (client: pg.Client) => Promise<void> {
  let opened = 0;
  return (client) => prepareConnection(client, ++opened <= WARM_CONNECTIONS ? START_REHEARSALS : 1);
}

/** The `p_appends` of the rehearsals: a claim's LeaderElected; a new task's and a new listing's. */
function rehearsedAppends(): { claim: string; writes: string } {
  const fenced = (appends: StreamAppend[], idempotencyKey?: string): FencedAppend => ({
    fence: REHEARSAL_FENCE,
    appends,
    options: idempotencyKey === undefined ? {} : { idempotencyKey },
  });
  const id = randomUUID();
  // On a stream of its own: the claim's own stream (`cluster`) is one a real claim may be
  // inserting into at that moment, and the two would wait on each other's version.
  const leaderElected = { nodeId: REHEARSAL_FENCE.nodeId, term: 1, url: '' };
  const claim = appendBatchCall([
    fenced([
      {
        stream: `rehearsal-${id}`,
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
    url: `https://rehearsal.invalid/${id}`,
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

/** A rehearsal's answer: marked so (nothing kept), and each of its `events` inserted. */
function checkRehearsed(answer: BatchResult | undefined, events: number): void {
  if (answer?.rehearsed !== true) {
    throw new Error(`append_batch answered a rehearsal as a real batch: ${JSON.stringify(answer)}`);
  }
  if (answer.inserted.length !== events) {
    throw new Error(
      `a rehearsal inserted ${answer.inserted.length} events, not ${events}: ${JSON.stringify(answer)}`,
    );
  }
}
