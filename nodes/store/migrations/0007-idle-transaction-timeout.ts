import { Migration } from '@mikro-orm/migrations';

/**
 * A session idle inside a transaction for 2 s is ended by PostgreSQL, and its locks with it.
 * A leader cut off from the network in the middle of its fence claim (begin, lock, … commit)
 * leaves its session idle in that transaction, holding the fence row: without this, every other
 * node's claim and every append would wait until TCP gave up on the dead connection (hours by
 * default), i.e. no writes at all. Our transactions send their statements back to back, so 2 s
 * idle means the client is gone or paused, and either way it must not hold the fence.
 * Set on the database, so it holds for every session of every node (new sessions).
 */
export class IdleTransactionTimeout extends Migration {
  override up(): void {
    this.addSql(`
      do $$ begin
        execute format('alter database %I set idle_in_transaction_session_timeout = %L',
                       current_database(), '2s');
      end $$`);
  }

  override down(): void {
    this.addSql(`
      do $$ begin
        execute format('alter database %I reset idle_in_transaction_session_timeout', current_database());
      end $$`);
  }
}
