import { Migration } from '@mikro-orm/migrations';

/**
 * The checks that open every append, in one round trip: lock the fence row, then — in a second
 * statement, whose snapshot is taken after the lock was granted and so sees every append that
 * committed while this one waited — read the streams' versions and any earlier use of the
 * idempotency key. (A single SELECT … FOR UPDATE with subqueries would read them with the
 * snapshot taken before the lock wait, and miss those appends.)
 */
export class AppendGuard extends Migration {
  override up(): void {
    this.addSql(`
      create function append_guard(p_streams jsonb, p_idempotency_key text)
        returns table (fence_term bigint, fence_node text, versions json, earlier json)
        language plpgsql volatile as $$
      begin
        select l.term, l.node_id into fence_term, fence_node from leadership l where l.singleton for update;
        select
          -- One index lookup per stream (a join over the list would plan a scan of the whole log).
          (select json_object_agg(s.stream,
                    coalesce((select max(e.version) from event e where e.stream = s.stream), 0))
             from jsonb_array_elements_text(p_streams) as s(stream)),
          -- The IS NOT NULL repeats the partial index's predicate so that index serves the lookup.
          case when p_idempotency_key is null then null else
            (select row_to_json(e) from event e
              where e.metadata ->> 'idempotencyKey' = p_idempotency_key
                and (e.metadata ->> 'idempotencyKey') is not null limit 1) end
        into versions, earlier;
        return next;
      end $$`);
  }
}
