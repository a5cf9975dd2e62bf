import { Migration } from '@mikro-orm/migrations';
import { CLAIM_FENCE_SQL } from '../claim-fence.sql.js';

/**
 * `claim_fence` can be rehearsed (every statement on no row, nothing written or locked): each new
 * pooled connection does it once, so a new leader's claim runs warm (nodes/store/warm-connection.ts).
 */
export class RehearsedClaimFence extends Migration {
  override up(): void {
    this.addSql(CLAIM_FENCE_SQL);
  }
}
