import { Migration } from '@mikro-orm/migrations';
import { APPEND_BATCH_RUN_SQL, APPEND_BATCH_SQL } from '../projection/append-batch.sql.js';

/**
 * `append_batch` runs a batch of rehearsals without the fence lock and keeps nothing: its work
 * moves to `append_batch_run` (../projection/append-batch.sql.ts). Pooled connections and
 * followers rehearse the appends a new leader makes, so that its first ones run warm
 * (nodes/store/warm-connection.ts). On a new database, 0010 and 0011 install this `append_batch`
 * already; nothing calls it before this migration has added `append_batch_run`.
 */
export class RehearsedAppendBatch extends Migration {
  override up(): void {
    this.addSql(APPEND_BATCH_RUN_SQL);
    this.addSql(APPEND_BATCH_SQL);
  }
}
