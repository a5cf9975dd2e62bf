/**
 * Opens the shared PostgreSQL through MikroORM and brings its schema up to date. Every node runs
 * the migrations at start; a session-level advisory lock makes the nodes take turns, so three
 * nodes starting at once neither race nor fail.
 */
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ENTITIES } from './entities.js';
import { InitialSchema } from './migrations/0001-initial-schema.js';
import { NotifyOnAppend } from './migrations/0002-notify-on-append.js';
import { AppendGuard } from './migrations/0003-append-guard.js';
import { BatchAppendGuard } from './migrations/0004-batch-append-guard.js';
import { AppendBatch } from './migrations/0005-append-batch.js';
import { DropEventTypeIndex } from './migrations/0006-drop-event-type-index.js';
import { IdleTransactionTimeout } from './migrations/0007-idle-transaction-timeout.js';
import { NoParallelQuery } from './migrations/0008-no-parallel-query.js';
import { EventNodeNotAForeignKey } from './migrations/0009-event-node-not-a-foreign-key.js';
import { ProjectionAsCurrentCode } from './migrations/0010-projection-as-current-code.js';

const MIGRATION_LOCK = 7_340_201; // any constant shared by every node

export const MIGRATIONS = [
  { name: '0001-initial-schema', class: InitialSchema },
  { name: '0002-notify-on-append', class: NotifyOnAppend },
  { name: '0003-append-guard', class: AppendGuard },
  { name: '0004-batch-append-guard', class: BatchAppendGuard },
  { name: '0005-append-batch', class: AppendBatch },
  { name: '0006-drop-event-type-index', class: DropEventTypeIndex },
  { name: '0007-idle-transaction-timeout', class: IdleTransactionTimeout },
  { name: '0008-no-parallel-query', class: NoParallelQuery },
  { name: '0009-event-node-not-a-foreign-key', class: EventNodeNotAForeignKey },
  { name: '0010-projection-as-current-code', class: ProjectionAsCurrentCode },
];

export async function openDatabase(
  databaseUrl: string,
  options: { poolSize?: number } = {},
): Promise<MikroORM> {
  await withMigrationLock(databaseUrl, async () => {
    const orm = await init(databaseUrl, 1);
    try {
      await orm.migrator.up();
    } finally {
      await orm.close();
    }
  });
  return init(databaseUrl, options.poolSize ?? 10);
}

function init(databaseUrl: string, poolSize: number): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      tableName: 'schema_migration',
      snapshot: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
    },
    pool: { min: 0, max: poolSize },
    // Discovery is explicit (the entity list); no reflection or folder scanning at start.
    discovery: { warnWhenNoEntities: true },
    debug: false,
  });
}

/**
 * Raw `pg`: a session-level advisory lock must be taken and released on one connection held
 * around the migrations, before MikroORM (and so kysely's pool) is open.
 */
async function withMigrationLock(databaseUrl: string, body: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await body();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}
