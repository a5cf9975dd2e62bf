import { Migration } from '@mikro-orm/migrations';

/**
 * No parallel query plans on this database. Our reads are index lookups of a few rows; with
 * hundreds of keys in one lookup (a batch of listings: its streams and idempotency keys) the
 * planner's estimate crossed the parallel threshold, and starting two background workers for a
 * lookup that takes 0.4 ms made it take 14 ms, on every batch (EXPLAIN ANALYZE; found with
 * pg_stat_statements under bench:ingest). On the machines this runs on — a few cores shared with
 * the nodes — parallel workers only compete with them. Set on the database (new sessions).
 */
export class NoParallelQuery extends Migration {
  override up(): void {
    this.addSql(`
      do $$ begin
        execute format('alter database %I set max_parallel_workers_per_gather = 0', current_database());
      end $$`);
  }

  override down(): void {
    this.addSql(`
      do $$ begin
        execute format('alter database %I reset max_parallel_workers_per_gather', current_database());
      end $$`);
  }
}
