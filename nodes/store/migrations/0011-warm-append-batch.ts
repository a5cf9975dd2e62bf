import { Migration } from '@mikro-orm/migrations';
import { APPEND_BATCH_SQL } from '../projection/append-batch.sql.js';

/**
 * `append_batch` of an empty batch takes no fence lock: a new pooled connection calls it once to
 * plan its statements (nodes/store/warm-connection.ts) without delaying the leader's appends.
 */
export class WarmAppendBatch extends Migration {
  override up(): void {
    this.addSql(APPEND_BATCH_SQL);
  }
}
