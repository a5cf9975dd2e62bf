/**
 * The write fence: the one `leadership` row naming the term and node allowed to append. A new
 * leader claims it for its term; every append checks it under its lock (event-log.ts). When an
 * append or a claim finds it moved, the node's side of the loss is handled in one place,
 * nodes/leadership/fence-keeper.ts.
 */
import { sql } from 'kysely';
import type { EventLog, Fence } from './event-log.js';
import type { NodeRegistry } from './node-registry.js';
import { NotLeaderError } from './store-errors.js';
import type { StoreSql } from './store-sql.js';
import type { StoredEvent } from './stored-event.js';

export class WriteFence {
  constructor(
    private readonly db: StoreSql,
    private readonly log: EventLog,
    private readonly nodes: NodeRegistry,
  ) {}

  async current(): Promise<Fence | null> {
    const row = await this.db
      .selectFrom('leadership')
      .select(['term', 'node_id'])
      .where('singleton', '=', true)
      .executeTakeFirst();
    return toFence(row);
  }

  /**
   * Take the fence for `fence.term` and log a LeaderElected event, in one transaction: this
   * node's Node row (so followers learn the leader's URL), the fence row, and the event, appended
   * through the log's one append path under the new fence. Only a higher term than the fenced one
   * may claim (re-claiming one's own term is a no-op that succeeds and returns null).
   * `onTaken` is called once the fence row is written (not yet committed), for the failover
   * benchmark's phases.
   */
  async claim(fence: Fence, url: string, onTaken?: () => void): Promise<StoredEvent | null> {
    return this.db.transaction().execute(async (trx) => {
      await this.nodes.report({ id: fence.nodeId, url, role: 'LEADER', term: fence.term }, trx);
      const current = await lock(trx);
      if (current && current.term === fence.term && current.nodeId === fence.nodeId) return null;
      if (current && current.term >= fence.term) {
        throw new NotLeaderError(
          current,
          `term ${fence.term} cannot claim the fence: ${current.nodeId} holds term ${current.term}`,
        );
      }
      await trx
        .insertInto('leadership')
        .values({ singleton: true, term: fence.term, node_id: fence.nodeId, claimed_at: sql`now()` })
        .onConflict((oc) =>
          oc.column('singleton').doUpdateSet((eb) => ({
            term: eb.ref('excluded.term'),
            node_id: eb.ref('excluded.node_id'),
            claimed_at: eb.ref('excluded.claimed_at'),
          })),
        )
        .execute();
      onTaken?.();
      const [outcome] = await this.log.appendBatch(
        [
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
        ],
        trx,
      );
      if (outcome?.status !== 'fulfilled') throw outcome?.reason ?? new Error('unreachable: no outcome');
      return outcome.value.kind === 'appended' ? (outcome.value.events[0] ?? null) : null;
    });
  }
}

/** The fence row, locked until the transaction ends. */
async function lock(trx: StoreSql): Promise<Fence | null> {
  const select = () => trx.selectFrom('leadership').select(['term', 'node_id']).where('singleton', '=', true);
  const row = await select().forUpdate().executeTakeFirst();
  if (row) return toFence(row);
  // No fence yet: a row lock cannot hold a row that does not exist, so lock out other first
  // claims with a table lock (first claim only; released at commit like the row lock). Raw SQL:
  // kysely has no LOCK statement.
  await sql`lock table leadership in exclusive mode`.execute(trx);
  return toFence(await select().executeTakeFirst());
}

function toFence(row: { term: string | number; node_id: string } | undefined): Fence | null {
  return row ? { term: Number(row.term), nodeId: row.node_id } : null;
}
