import { Migration } from '@mikro-orm/migrations';
import { APPEND_BATCH_SQL } from '../projection/append-batch.sql.js';
import { PROJECTION_SQL } from '../projection/project-events.sql.js';

/**
 * The projection and `append_batch` become current code (nodes/store/projection/), installed from
 * there: one projection, `project_events`, which append_batch and the rebuild both run, where
 * 0005 had a second copy of the ListingAdded rule inside append_batch. A later change of either
 * edits that module and adds a migration that applies it again, as this one does.
 */
export class ProjectionAsCurrentCode extends Migration {
  override up(): void {
    for (const sql of PROJECTION_SQL) this.addSql(sql);
    this.addSql(APPEND_BATCH_SQL);
  }
}
