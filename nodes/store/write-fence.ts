/**
 * The write fence: the one `leadership` row naming the term and node allowed to append. A new
 * leader claims it for its term; every append checks it under its lock (event-log.ts). When an
 * append or a claim finds it moved, the node's side of the loss is handled in one place,
 * nodes/leadership/fence-keeper.ts.
 */
import { sql } from 'kysely';
import { appendBatchCall, type BatchResult, type Fence, settleAppendBatch } from './event-log.js';
import { NotLeaderError } from './store-errors.js';
import type { StoreSql } from './store-sql.js';
import type { StoredEvent } from './stored-event.js';

export class WriteFence {
  constructor(private readonly db: StoreSql) {}

  async current(): Promise<Fence | null> {
    const row = await this.db
      .selectFrom('leadership')
      .select(['term', 'node_id'])
      .where('singleton', '=', true)
      .executeTakeFirst();
    return toFence(row);
  }

  /**
   * Take the fence for `fence.term` and log a LeaderElected event, in one statement and one
   * transaction (`claim_fence`, ./claim-fence.sql.ts): this node's Node row (so followers learn
   * the leader's URL), the fence row, and the event, appended through the log's one append path
   * under the new fence. Only a higher term than the fenced one may claim (re-claiming one's own
   * term is a no-op that succeeds and returns null). `onTaken` is called once the fence is taken
   * (committed), for the failover benchmark's phases.
   */
  async claim(fence: Fence, url: string, onTaken?: () => void): Promise<StoredEvent | null> {
    const call = appendBatchCall([
      {
        fence,
        appends: [
          {
            stream: 'cluster',
            expectedVersion: 'any',
            events: [{ type: 'LeaderElected', data: { nodeId: fence.nodeId, term: fence.term, url } }],
          },
        ],
        options: {},
      },
    ]);
    const node = JSON.stringify({ id: fence.nodeId, url, term: fence.term });
    const { rows } = await sql<{ result: ClaimResult }>`
      select claim_fence(${node}::jsonb, ${call.appends}::jsonb) as result`.execute(this.db);
    const result = rows[0]?.result;
    if (result === undefined) throw new Error('unreachable: claim_fence returned no row');
    if (result.kind === 'held') return null;
    if (result.kind === 'refused') {
      const current = { term: Number(result.term), nodeId: result.node };
      throw new NotLeaderError(
        current,
        `term ${fence.term} cannot claim the fence: ${current.nodeId} holds term ${current.term}`,
      );
    }
    onTaken?.();
    const [outcome] = settleAppendBatch(call, result.appended);
    if (outcome?.status !== 'fulfilled') throw outcome?.reason ?? new Error('unreachable: no outcome');
    return outcome.value.kind === 'appended' ? (outcome.value.events[0] ?? null) : null;
  }
}

/** What `claim_fence` answers. */
type ClaimResult =
  | { readonly kind: 'held' }
  | { readonly kind: 'refused'; readonly term: number | string; readonly node: string }
  | { readonly kind: 'claimed'; readonly appended: BatchResult };

function toFence(row: { term: string | number; node_id: string } | undefined): Fence | null {
  return row ? { term: Number(row.term), nodeId: row.node_id } : null;
}
