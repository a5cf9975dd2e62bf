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
import { WarmAppendBatch } from './migrations/0011-warm-append-batch.js';
import { ClaimFenceFunction } from './migrations/0012-claim-fence-function.js';
import { RehearsedClaimFence } from './migrations/0013-rehearsed-claim-fence.js';
import { RehearsedAppendBatch } from './migrations/0014-rehearsed-append-batch.js';
import { type PrimaryLocator, primaryClientClass, primaryLocator } from './primary-locator.js';
import { poolWarmUp, WARM_CONNECTIONS } from './warm-connection.js';

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
  { name: '0011-warm-append-batch', class: WarmAppendBatch },
  { name: '0012-claim-fence-function', class: ClaimFenceFunction },
  { name: '0013-rehearsed-claim-fence', class: RehearsedClaimFence },
  { name: '0014-rehearsed-append-batch', class: RehearsedAppendBatch },
];

/**
 * How long a query of the node's pool may go unanswered before its connection is given up (and
 * destroyed: the host is looked for again). A host that vanished without a reset (a dead machine,
 * a cut link) answers nothing, and TCP would give up on a query in flight only after its
 * retransmissions, ≈ 15 min. Above any query the node runs on its pool, and below the gateway's
 * wait for a node (NODE_TIMEOUT_MS, 15 s): a write timed out here is resent with its key, so its
 * outcome is never lost nor doubled. Not for the migrations, which may rightly run longer.
 */
export const QUERY_TIMEOUT_MS = 10_000;

export async function openDatabase(
  databaseUrl: string,
  options: { poolSize?: number; queryTimeoutMs?: number } = {},
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
  const poolSize = options.poolSize ?? 10;
  const orm = await init(locator, poolSize, true, options.queryTimeoutMs ?? QUERY_TIMEOUT_MS);
  // Open the warm connections now, not on the first appends (./warm-connection.ts): issued at
  // once, each query takes a connection of its own.
  const warm = Math.min(WARM_CONNECTIONS, poolSize);
  await Promise.all(Array.from({ length: warm }, () => orm.em.getConnection().execute('select 1')));
  return orm;
}

function init(
  locator: PrimaryLocator,
  poolSize: number,
  warm = false,
  queryTimeoutMs?: number,
): Promise<MikroORM> {
  // Not `clientUrl`: MikroORM reads it with `new URL`, which refuses a list of hosts. The pool's
  // own Client class picks the host (the writable primary) for every connection it opens.
  const first = locator.url.hosts[0]?.config ?? {};
  return MikroORM.init({
    host: first.host,
    port: first.port,
    user: first.user,
    password: typeof first.password === 'string' ? first.password : undefined,
    dbName: first.database,
    // The migrations' pool (`warm` false) runs before append_batch may exist in its current form.
    driverOptions: {
      Client: primaryClientClass(locator, { prepare: warm ? poolWarmUp() : undefined, queryTimeoutMs }),
    },
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
    // Kept open once opened (pg-pool reaps idle connections only above `min`).
    pool: { min: warm ? Math.min(WARM_CONNECTIONS, poolSize) : 0, max: poolSize },
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
