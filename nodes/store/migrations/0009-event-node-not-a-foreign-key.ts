import { Migration } from '@mikro-orm/migrations';

/**
 * `event.node_id` is no longer a foreign key to `node`. Every event is stamped with the node of
 * the fence it was appended under (append_batch reads it from the `leadership` row, itself a
 * foreign key to `node`), so the per-row check proved nothing new, and it cost each inserted
 * event a trigger call and a KEY SHARE lock on the leader's node row (30,000 checks in a
 * 30,000-listing ingest, by pg_stat_statements). It also tied the immutable log to a registry
 * that may change: the log must not depend on a read model.
 */
export class EventNodeNotAForeignKey extends Migration {
  override up(): void {
    this.addSql('alter table event drop constraint if exists event_node_id_fkey');
  }

  override down(): void {
    this.addSql(
      'alter table event add constraint event_node_id_fkey foreign key (node_id) references node (id)',
    );
  }
}
