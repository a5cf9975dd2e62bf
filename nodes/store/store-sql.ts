/**
 * The store's hand-made SQL is written with kysely (typed with the columns of the tables it
 * touches), on the connection pool MikroORM opened, so a node has one pool. MikroORM keeps the
 * entities (queried by the read models) and the migrations.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { ColumnType, Kysely } from 'kysely';

/** An int8 column: PostgreSQL answers it as a string, we write numbers. */
type Int8 = ColumnType<string | number, number, number>;
/** A timestamptz column: written as `now()` or an ISO string. */
type Timestamp = ColumnType<Date | string, Date | string, Date | string>;

export interface StoreTables {
  event: {
    /** Assigned by the INSERT (a sequence), never written. */
    position: ColumnType<string | number, never, never>;
    stream: string;
    version: number;
    type: string;
    data: unknown;
    metadata: unknown;
    term: Int8;
    node_id: string;
    created_at: Timestamp;
  };
  /** The write fence: one row (`singleton` is true). */
  leadership: { singleton: boolean; term: Int8; node_id: string; claimed_at: Timestamp };
  /** The Node table. */
  node: { id: string; url: string; role: string; term: Int8; last_seen_at: Timestamp };
}

/** The pool, or a transaction on it (kysely's Transaction is a Kysely). */
export type StoreSql = Kysely<StoreTables>;

export function storeSql(orm: MikroORM): StoreSql {
  return orm.em.getConnection().getClient<StoreTables>();
}
