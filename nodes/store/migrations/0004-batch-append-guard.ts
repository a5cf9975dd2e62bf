import { Migration } from '@mikro-orm/migrations';

/**
 * The append guard for a whole group-committed batch: lock the fence once, then (in a second
 * statement, so its snapshot follows the lock wait) read every stream's version and every
 * idempotency key's earlier use. One index lookup per stream and per key.
 */
export class BatchAppendGuard extends Migration {
  override up(): void {
    this.addSql('drop function append_guard(jsonb, text)');
    this.addSql(`
      create function append_guard(p_streams jsonb, p_idempotency_keys jsonb)
        returns table (fence_term bigint, fence_node text, versions json, earlier json)
        language plpgsql volatile as $$
      begin
        select l.term, l.node_id into fence_term, fence_node from leadership l where l.singleton for update;
        select
          (select json_object_agg(s.stream,
                    coalesce((select max(e.version) from event e where e.stream = s.stream), 0))
             from jsonb_array_elements_text(p_streams) as s(stream)),
          -- The IS NOT NULL repeats the partial index's predicate so that index serves the lookup.
          (select json_object_agg(k.key, (select row_to_json(e) from event e
                    where e.metadata ->> 'idempotencyKey' = k.key
                      and (e.metadata ->> 'idempotencyKey') is not null limit 1))
             from jsonb_array_elements_text(p_idempotency_keys) as k(key))
        into versions, earlier;
        return next;
      end $$`);
  }
}
