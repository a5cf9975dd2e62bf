/**
 * A pooled connection made ready to append before anyone waits on it. A PostgreSQL session
 * compiles a PL/pgSQL function and plans its statements on their first run: a new connection's
 * first `append_batch` took ≈ 16 ms where later ones take ≈ 1 ms, and opening the connection
 * (TCP, start-up, SCRAM) ≈ 13 ms more. A newly elected leader paid both, twice (its fence claim
 * and its first write each on a fresh connection), on the path from election to first
 * acknowledged write. So the node's pool opens its connections at start, keeps them (no idle
 * reaping), and runs each one's first `append_batch` on an empty batch: that plans every
 * statement, stores nothing and takes no lock (append_batch skips the fence lock when the batch
 * is empty), so a follower warming up never delays the leader's appends. It then rehearses a fence
 * claim (`claim_fence` on no row: nothing written, no row locked; ./claim-fence.sql.ts), whose
 * first run in a session took 3–5 ms against ≈ 1 — on a new leader's path, from its election to
 * its first write, wherever its claim lands in the pool. (Not a connection that waited on a
 * standby for its promotion, primary-locator.ts: there the write waits on the warm-up.)
 */
import type pg from 'pg';

/** How many connections the node's pool keeps open and warm (the rest open on demand). */
export const WARM_CONNECTIONS = 4;

export async function warmConnection(client: pg.Client): Promise<void> {
  await client.query(`select append_batch('[]'::jsonb, '{}'::bytea[])`);
  const { rows } = await client.query<{ result: { kind?: unknown } }>(
    `select claim_fence('{"rehearse": true}'::jsonb, '[]'::jsonb) as result`,
  );
  if (rows[0]?.result.kind !== 'rehearsed') {
    throw new Error(`claim_fence answered a rehearsal with ${JSON.stringify(rows[0]?.result)}`);
  }
}
