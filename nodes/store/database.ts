/**
 * Opens the shared PostgreSQL through MikroORM and brings its schema up to date. Every node runs
 * the migrations at start; a session-level advisory lock makes the nodes take turns, so three
 * nodes starting at once neither race nor fail.
 */
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
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
import { type PrimaryLocator, primaryClientClass, primaryLocator } from './primary-locator.js';

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
  const locator = primaryLocator(databaseUrl);
  await withMigrationLock(locator, async () => {
    const orm = await init(locator, 1);
    try {
      await orm.migrator.up();
    } finally {
      await orm.close();
    }
  });
  return init(locator, options.poolSize ?? 10);
}

function init(locator: PrimaryLocator, poolSize: number): Promise<MikroORM> {
  // Not `clientUrl`: MikroORM reads it with `new URL`, which refuses a list of hosts. The pool's
  // own Client class picks the host (the writable primary) for every connection it opens.
  const first = locator.url.hosts[0]?.config ?? {};
  return MikroORM.init({
    host: first.host,
    port: first.port,
    user: first.user,
    password: typeof first.password === 'string' ? first.password : undefined,
    dbName: first.database,
    driverOptions: { Client: primaryClientClass(locator) },
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
 * A raw `pg` client on the primary: a session-level advisory lock must be taken and released on one connection held
 * around the migrations, before MikroORM (and so kysely's pool) is open.
 */
async function withMigrationLock(locator: PrimaryLocator, body: () => Promise<void>): Promise<void> {
  const client = await locator.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await body();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}
