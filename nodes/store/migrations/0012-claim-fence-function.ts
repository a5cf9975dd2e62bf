import { Migration } from '@mikro-orm/migrations';
import { CLAIM_FENCE_SQL } from '../claim-fence.sql.js';

/** A fence claim becomes one statement, `claim_fence` (nodes/store/claim-fence.sql.ts). */
export class ClaimFenceFunction extends Migration {
  override up(): void {
    this.addSql(CLAIM_FENCE_SQL);
  }
}
