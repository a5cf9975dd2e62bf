/**
 * `append_batch`: a whole group-committed batch of appends in one statement — so in one round
 * trip, and, run outside an explicit transaction, in one transaction of its own:
 *
 *  1. lock the fence row (a claim for a newer term waits for it, and it for the claim) — unless
 *     the batch is empty (nothing to decide: every statement runs on no row) or a rehearsal;
 *  2. in a second statement, whose snapshot follows the lock wait (a volatile function takes a
 *     fresh snapshot per statement under READ COMMITTED) and so sees every append that committed
 *     meanwhile: decide each append — NOT_LEADER (its term and node are not the fenced ones),
 *     duplicate (its idempotency key is in the log: the first event is returned), conflict (a
 *     stream is not at the expected version), else accepted — and insert the accepted appends'
 *     events in one multi-row INSERT, in batch order;
 *  3. store the content-addressed blobs of the accepted appends;
 *  4. project the new events (`project_events`, ./project-events.sql.ts).
 *
 * A rehearsal — a batch whose every append is under the rehearsal fence (term 0, node
 * '(rehearsal)': nodes/store/rehearsal-fence.ts) — is run by `append_batch_run` without the fence
 * lock: its appends are decided as any (accepted under term 1 by the node '(rehearsal)', whose
 * row it adds, unless their own checks refuse them), the accepted ones' events inserted at
 * negative positions given explicitly (the log's sequence is not drawn from: a rolled-back draw
 * would leave a gap in the positions at every rehearsal) and projected; then it raises
 * REHEARSAL_SQLSTATE with its would-be answer as the detail. `append_batch` runs it in a block
 * that catches that and answers the would-be answer marked `rehearsed`: the block's
 * subtransaction undoes everything the rehearsal did, and neither the caller's transaction nor
 * the server's log sees an error. A PostgreSQL session runs a function's statements cold the
 * first time they meet rows (the insert's indexes and trigger, the projection's statements and
 * foreign keys): a warmed connection's first real append took 4.2–4.8 ms where later ones take
 * ≈ 1.5–2. Rehearsals take part of that off the first appends a new leader makes
 * (nodes/store/warm-connection.ts, nodes/rehearsal/write-rehearsal.ts), and lock nothing a
 * leader's append or claim waits on (they wait only for each other: the '(rehearsal)' row, the
 * negative positions). A batch that mixes rehearsals with real appends is a real batch (the
 * rehearsals in it are refused as NOT_LEADER).
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
 *           versions: { stream: version before the batch }, inserted: [[stream, version, position]],
 *           rehearsed?: true }.
 *
 * Current code, installed by migrations like the projection (see ./project-events.sql.ts);
 * migration 0005 holds the text it first ran with. The SQL avoids the `?` jsonb operator: it
 * would read as a bind placeholder in a driver.
 */
import { REHEARSAL_FENCE, REHEARSAL_SQLSTATE } from '../rehearsal-fence.js';

/** The batch's work; a rehearsal (p_rehearse) ends by raising REHEARSAL_SQLSTATE (above). */
export const APPEND_BATCH_RUN_SQL = `
  create or replace function append_batch_run(p_appends jsonb, p_blobs bytea[], p_rehearse boolean)
    returns jsonb language plpgsql volatile
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
    v_result jsonb;
  begin
    if p_rehearse then
      -- No fence lock: the rehearsal writes as the node '(rehearsal)' in term 1, for itself only.
      v_term := 1;
      v_node := '${REHEARSAL_FENCE.nodeId}';
      insert into node (id, url, role, term, last_seen_at)
      values (v_node, '', 'FOLLOWER', v_term, now()) on conflict (id) do nothing;
    elsif jsonb_array_length(p_appends) > 0 then
      select l.term, l.node_id into v_term, v_node from leadership l where l.singleton for update;
    end if;

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
               when not p_rehearse
                    and (v_term is null or (a.a ->> 'term')::bigint <> v_term or a.a ->> 'node' <> v_node)
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
       where o.refusal is null and not p_rehearse
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

    if p_rehearse then
      -- The rehearsal's accepted events, at positions below every real one (negative, explicit):
      -- nothing is drawn from the log's sequence, so a rehearsal leaves no gap in the positions.
      with r as (
        insert into event (position, stream, version, type, data, metadata, term, node_id, created_at)
        overriding system value
        -- -n … -1 in batch order, as real positions ascend (the projection goes by position).
        select row_number() over (order by x.ord, y.ord, ev.k) - count(*) over () - 1, y.s ->> 'stream',
               coalesce((v_versions ->> (y.s ->> 'stream'))::int, 0) + (y.s ->> 'offset')::int + ev.k::int,
               ev.e ->> 'type', ev.e -> 'data', ev.e -> 'metadata', v_term, v_node,
               (x.a ->> 'createdAt')::timestamptz
          from jsonb_array_elements(p_appends) with ordinality as x(a, ord)
          cross join lateral jsonb_array_elements(x.a -> 'entries') with ordinality as y(s, ord)
          cross join lateral jsonb_array_elements(y.s -> 'events') with ordinality as ev(e, k)
         where v_outcomes -> (x.ord::int - 1) = 'null'::jsonb
        returning position, stream, version
      )
      select coalesce(jsonb_agg(jsonb_build_array(r.stream, r.version, r.position)), '[]'::jsonb),
             array_agg(r.position order by r.position)
        into v_inserted, v_positions from r;
    end if;

    -- Bodies before the rows that refer to them (stored_file.sha256 references blob).
    insert into blob (sha256, content)
    select b.b ->> 'sha256', p_blobs[(b.b ->> 'index')::int + 1]
      from jsonb_array_elements(p_appends) with ordinality as x(a, ord)
      cross join lateral jsonb_array_elements(x.a -> 'blobs') as b(b)
     where v_outcomes -> (x.ord::int - 1) = 'null'::jsonb
    on conflict (sha256) do nothing;

    -- The new events into the read models (the projection, ./project-events.sql.ts).
    perform project_events(v_positions);

    v_result := jsonb_build_object(
      'fence', case when v_term is null then null
                    else jsonb_build_object('term', v_term, 'node', v_node) end,
      'outcomes', coalesce(v_outcomes, '[]'::jsonb),
      'versions', v_versions,
      'inserted', v_inserted);
    if p_rehearse then
      raise exception using errcode = '${REHEARSAL_SQLSTATE}',
        message = 'append_batch rehearsed: every statement ran, nothing is kept', detail = v_result::text;
    end if;
    return v_result;
  end $$`;

/**
 * The function callers call: a batch of nothing but rehearsals runs in a block that undoes it and
 * answers what it would have answered, marked `rehearsed`; any other batch runs as it is.
 */
export const APPEND_BATCH_SQL = `
  create or replace function append_batch(p_appends jsonb, p_blobs bytea[]) returns jsonb
    language plpgsql volatile as $$
  declare
    v_detail text;
  begin
    -- The first append's term first: a real batch is told by it without reading the others.
    if p_appends -> 0 ->> 'term' = '${REHEARSAL_FENCE.term}' and not exists (
         select from jsonb_array_elements(p_appends) as x(a)
          where not coalesce(x.a ->> 'term' = '${REHEARSAL_FENCE.term}'
                             and x.a ->> 'node' = '${REHEARSAL_FENCE.nodeId}', false)) then
      begin
        perform append_batch_run(p_appends, p_blobs, true);
        raise exception 'append_batch_run kept a rehearsal';
      exception when sqlstate '${REHEARSAL_SQLSTATE}' then
        get stacked diagnostics v_detail = pg_exception_detail;
        return v_detail::jsonb || '{"rehearsed": true}'::jsonb;
      end;
    end if;
    return append_batch_run(p_appends, p_blobs, false);
  end $$`;
