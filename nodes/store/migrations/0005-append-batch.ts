import { Migration } from '@mikro-orm/migrations';

/**
 * A whole group-committed batch of appends in one statement — so in one round trip, and, run
 * outside an explicit transaction, in one transaction of its own:
 *
 *  1. lock the fence row (a claim for a newer term waits for it, and it for the claim);
 *  2. in a second statement, whose snapshot follows the lock wait (a volatile function takes a
 *     fresh snapshot per statement under READ COMMITTED) and so sees every append that committed
 *     meanwhile: decide each append — NOT_LEADER (its term and node are not the fenced ones),
 *     duplicate (its idempotency key is in the log: the first event is returned), conflict (a
 *     stream is not at the expected version), else accepted — and insert the accepted appends'
 *     events in one multi-row INSERT, in batch order;
 *  3. store the content-addressed blobs of the accepted appends;
 *  4. project the new events: each stream's in position order (`project_event`), a batch's new
 *     listings that have no other event in it in one INSERT.
 *
 * The caller puts no two appends that write the same stream or carry the same idempotency key in
 * one batch (the next batch takes the later one), so each append's checks are independent of
 * its batch-mates and the whole decision is set-based. Within one append, a stream listed twice
 * is checked at its version plus the events the append's earlier entries give it (`offset`).
 *
 * p_appends: [{ term, node, key?, createdAt, blobs: [{ sha256, index }],
 *               entries: [{ stream, expected (null: any), offset, events: [{ type, data, metadata }] }] }]
 * p_blobs:   the blob bodies the `index`es point into (0-based).
 * Returns { fence: { term, node } | null, outcomes: [null (accepted) | { kind, … }],
 *           versions: { stream: version before the batch }, inserted: [[stream, version, position]] }.
 *
 * The SQL avoids the `?` jsonb operator: it would read as a bind placeholder in a driver.
 */
export class AppendBatch extends Migration {
  override up(): void {
    this.addSql('drop function append_guard(jsonb, jsonb)');
    this.addSql(`
      create function project_event(e event) returns void language plpgsql volatile as $$
      declare
        d jsonb := e.data;
      begin
        case e.type
          when 'TaskCreated' then
            insert into task (id, title, description, status, created_by, version, created_at, updated_at)
            values ((d ->> 'id')::uuid, d ->> 'title', d ->> 'description', d ->> 'status',
                    d ->> 'createdBy', e.version, e.created_at, e.created_at);
          when 'TaskUpdated' then
            update task set
              title = case when (d -> 'title') is not null then d ->> 'title' else title end,
              description = case when (d -> 'description') is not null then d ->> 'description' else description end,
              status = case when (d -> 'status') is not null then d ->> 'status' else status end,
              version = e.version,
              updated_at = e.created_at
            where id = (d ->> 'id')::uuid;
          when 'TaskDeleted' then
            delete from task where id = (d ->> 'id')::uuid;
          when 'ListingAdded' then
            insert into listing (id, url, title, price, currency, price_eur, scraped_at, version)
            values (substr(e.stream, length('listing-') + 1), d ->> 'url', d ->> 'title',
                    (d ->> 'price')::double precision, d ->> 'currency',
                    (d ->> 'priceEur')::double precision, (d ->> 'scrapedAt')::timestamptz, e.version);
          when 'ListingChanged' then
            update listing set
              title = case when (d -> 'title') is not null then d ->> 'title' else title end,
              price = case when (d -> 'price') is not null then (d ->> 'price')::double precision else price end,
              currency = case when (d -> 'currency') is not null then d ->> 'currency' else currency end,
              price_eur = case when (d -> 'priceEur') is not null then (d ->> 'priceEur')::double precision
                               else price_eur end,
              scraped_at = (d ->> 'scrapedAt')::timestamptz,
              version = e.version
            where id = substr(e.stream, length('listing-') + 1);
          when 'FileStored' then
            insert into stored_file (id, name, size, sha256, imported_listings, created_at)
            values ((d ->> 'id')::uuid, d ->> 'name', (d ->> 'size')::integer, d ->> 'sha256',
                    (d ->> 'importedListings')::integer, e.created_at);
          when 'LeaderElected' then
            null; -- the audit trail; leadership is read from the election and the Node table
          else
            raise exception 'no projection for event type %', e.type;
        end case;
      end $$`);
    this.addSql(`
      create function append_batch(p_appends jsonb, p_blobs bytea[]) returns jsonb
        language plpgsql volatile
        -- Plan each statement once: the plans do not depend on the values (every lookup is by
        -- index either way), and re-planning the big statement per call cost ≈ 0.2 ms.
        set plan_cache_mode = force_generic_plan as $$
      declare
        v_term bigint;
        v_node text;
        v_outcomes jsonb;
        v_versions jsonb;
        v_inserted jsonb;
        v_positions bigint[];
        v_alone bigint[];
        v_rest bigint[];
        v_event event;
      begin
        select l.term, l.node_id into v_term, v_node from leadership l where l.singleton for update;

        with a as (
          select (x.ord - 1)::int as i, x.a
            from jsonb_array_elements(p_appends) with ordinality as x(a, ord)
        ),
        s as (
          -- Every entry that writes, with its stream's version in the log: one index lookup each.
          select a.i, (y.ord - 1)::int as j, y.s ->> 'stream' as stream, (y.s ->> 'offset')::int as off,
                 (y.s ->> 'expected')::int as expected, y.s -> 'events' as events,
                 coalesce((select max(e.version) from event e where e.stream = y.s ->> 'stream'), 0) as logv
            from a cross join lateral jsonb_array_elements(a.a -> 'entries') with ordinality as y(s, ord)
           where jsonb_array_length(y.s -> 'events') > 0
        ),
        c as (
          -- Each append's first entry (in its order) not at the expected version, if any.
          select distinct on (s.i) s.i, s.stream, s.expected, s.logv + s.off as actual
            from s
           where s.expected is not null and s.expected <> s.logv + s.off
           order by s.i, s.j
        ),
        o as (
          select a.i, a.a,
                 case
                   when v_term is null or (a.a ->> 'term')::bigint <> v_term or a.a ->> 'node' <> v_node
                     then jsonb_build_object('kind', 'notLeader')
                   when k.first is not null then jsonb_build_object('kind', 'duplicate', 'first', k.first)
                   when c.stream is not null
                     then jsonb_build_object('kind', 'conflict', 'stream', c.stream, 'expected', c.expected,
                                             'actual', c.actual)
                 end as refusal
            from a
            -- The IS NOT NULL repeats the partial index's predicate so that index serves the lookup.
            left join lateral (
              select to_jsonb(e) as first from event e
               where (a.a ->> 'key') is not null
                 and e.metadata ->> 'idempotencyKey' = a.a ->> 'key'
                 and (e.metadata ->> 'idempotencyKey') is not null
               limit 1) k on true
            left join c on c.i = a.i
        ),
        ins as (
          insert into event (stream, version, type, data, metadata, term, node_id, created_at)
          select s.stream, s.logv + s.off + ev.k::int, ev.e ->> 'type', ev.e -> 'data', ev.e -> 'metadata',
                 v_term, v_node, (o.a ->> 'createdAt')::timestamptz
            from o
            join s on s.i = o.i
            cross join lateral jsonb_array_elements(s.events) with ordinality as ev(e, k)
           where o.refusal is null
           order by s.i, s.j, ev.k
          returning position, stream, version
        )
        select (select jsonb_agg(o.refusal order by o.i) from o),
               (select coalesce(jsonb_object_agg(s.stream, s.logv), '{}'::jsonb)
                  from (select distinct stream, logv from s) s),
               (select coalesce(jsonb_agg(jsonb_build_array(ins.stream, ins.version, ins.position)), '[]'::jsonb)
                  from ins),
               (select array_agg(ins.position order by ins.position) from ins)
          into v_outcomes, v_versions, v_inserted, v_positions;

        -- Bodies before the rows that refer to them (stored_file.sha256 references blob).
        insert into blob (sha256, content)
        select b.b ->> 'sha256', p_blobs[(b.b ->> 'index')::int + 1]
          from jsonb_array_elements(p_appends) with ordinality as x(a, ord)
          cross join lateral jsonb_array_elements(x.a -> 'blobs') as b(b)
         where v_outcomes -> (x.ord::int - 1) = 'null'::jsonb
        on conflict (sha256) do nothing;

        if v_positions is not null then
          -- A new listing whose stream has no other event in this batch (the common case: an
          -- import, a queue batch): all of them in one INSERT, as project_event would add each.
          -- Every other event one by one, in position order. (Split by a window over the new
          -- events, not by array membership per row, which is quadratic in a big import.)
          select array_agg(x.position) filter (where x.alone),
                 array_agg(x.position order by x.position) filter (where not x.alone)
            into v_alone, v_rest
            from (select e.position,
                         e.type = 'ListingAdded' and count(*) over (partition by e.stream) = 1 as alone
                    from event e where e.position = any(v_positions)) x;
          if v_alone is not null then
            insert into listing (id, url, title, price, currency, price_eur, scraped_at, version)
            select substr(e.stream, length('listing-') + 1), e.data ->> 'url', e.data ->> 'title',
                   (e.data ->> 'price')::double precision, e.data ->> 'currency',
                   (e.data ->> 'priceEur')::double precision, (e.data ->> 'scrapedAt')::timestamptz, e.version
              from event e
             where e.position = any(v_alone);
          end if;
          if v_rest is not null then
            for v_event in select * from event e where e.position = any(v_rest) order by e.position loop
              perform project_event(v_event);
            end loop;
          end if;
        end if;

        return jsonb_build_object(
          'fence', case when v_term is null then null
                        else jsonb_build_object('term', v_term, 'node', v_node) end,
          'outcomes', coalesce(v_outcomes, '[]'::jsonb),
          'versions', v_versions,
          'inserted', v_inserted);
      end $$`);
  }
}
