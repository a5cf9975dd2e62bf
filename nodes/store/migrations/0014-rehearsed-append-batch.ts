import { Migration } from '@mikro-orm/migrations';
import { APPEND_BATCH_SQL } from '../projection/append-batch.sql.js';

/**
 * `append_batch` runs a batch of rehearsals in full, without the fence lock, and keeps nothing
 * (../projection/append-batch.sql.ts): pooled connections and followers rehearse the appends a
 * new leader makes, so that its first ones run warm (nodes/store/warm-connection.ts).
 */
export class RehearsedAppendBatch extends Migration {
  override up(): void {
    this.addSql(APPEND_BATCH_SQL);
  }
}
