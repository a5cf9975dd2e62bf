/**
 * The Node table: each node reports its own row (URL, role, term, when); anyone lists them — the
 * read models for the cluster view, the leadership bridge for the other nodes' URLs.
 */
import { sql } from 'kysely';
import type { StoreSql } from './store-sql.js';

export interface NodeReport {
  readonly id: string;
  readonly url: string;
  readonly role: string;
  readonly term: number;
}

export interface NodeEntry extends NodeReport {
  readonly lastSeenAt: Date;
}

export class NodeRegistry {
  constructor(private readonly db: StoreSql) {}

  /** Register or refresh this node's row (its own only); `db` may be a transaction. */
  async report(node: NodeReport, db: StoreSql = this.db): Promise<void> {
    await db
      .insertInto('node')
      .values({ id: node.id, url: node.url, role: node.role, term: node.term, last_seen_at: sql`now()` })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          url: eb.ref('excluded.url'),
          role: eb.ref('excluded.role'),
          term: eb.ref('excluded.term'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .execute();
  }

  async list(): Promise<NodeEntry[]> {
    const rows = await this.db
      .selectFrom('node')
      .select(['id', 'url', 'role', 'term', 'last_seen_at'])
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      url: r.url,
      role: r.role,
      term: Number(r.term),
      lastSeenAt: new Date(r.last_seen_at),
    }));
  }
}
