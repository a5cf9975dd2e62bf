import { Migration } from '@mikro-orm/migrations';

/**
 * No query filters the log by event type (readers go by position, stream or idempotency key), so
 * the `event_type` index only cost every append one more index insertion.
 */
export class DropEventTypeIndex extends Migration {
  override up(): void {
    this.addSql('drop index if exists event_type');
  }

  override down(): void {
    this.addSql('create index event_type on event (type)');
  }
}
