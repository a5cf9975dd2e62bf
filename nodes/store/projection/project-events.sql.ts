/**
 * The projection: how each logged event changes the read models (`task`, `listing`,
 * `stored_file`), as the SQL that runs — inside `append_batch`, in the append's own transaction,
 * and in `rebuildProjections`, which replays the log through the same functions.
 *
 * This file is current code, not history. Migrations install it (`CREATE OR REPLACE`, so applying
 * it again is harmless): 0010 first; a later change of the projection edits this text and adds a
 * one-line migration that applies it again. Older migrations (0005) keep the text they ran, since
 * existing databases ran it. Because every such migration installs the *current* text, a fresh
 * database gets the newest text already at 0010: plpgsql binds tables when it runs, not when it
 * is created, so that is harmless; a changed signature or return type must be dropped first
 * (`drop function if exists`) in the migration that brings it.
 *
 * `test/projection-oracle.ts` is the same rules written in TypeScript, for the test only.
 */

/** A stream's entity id: what follows its type prefix (`listing-<id>`, see `streams` in schema/events.ts). */
const STREAM_ENTITY_ID = `
  create or replace function stream_entity_id(p_stream text) returns text
    language sql immutable strict parallel safe as $$
    select substr(p_stream, strpos(p_stream, '-') + 1)
  $$`;

/**
 * The only place a ListingAdded becomes a listing row, for any number of events at once: a big
 * import inserts its new listings in one statement (bench:ingest), a lone one comes through
 * project_event.
 */
const PROJECT_LISTINGS_ADDED = `
  create or replace function project_listings_added(p_positions bigint[]) returns void
    language plpgsql volatile as $$
  begin
    insert into listing (id, url, title, price, currency, price_eur, scraped_at, version)
    select stream_entity_id(e.stream), e.data ->> 'url', e.data ->> 'title',
           (e.data ->> 'price')::double precision, e.data ->> 'currency',
           (e.data ->> 'priceEur')::double precision, (e.data ->> 'scrapedAt')::timestamptz, e.version
      from event e
     where e.position = any(p_positions) and e.type = 'ListingAdded';
  end $$`;

/** One event, whatever its type. */
const PROJECT_EVENT = `
  create or replace function project_event(e event) returns void language plpgsql volatile as $$
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
        perform project_listings_added(array[e.position]);
      when 'ListingChanged' then
        update listing set
          title = case when (d -> 'title') is not null then d ->> 'title' else title end,
          price = case when (d -> 'price') is not null then (d ->> 'price')::double precision else price end,
          currency = case when (d -> 'currency') is not null then d ->> 'currency' else currency end,
          price_eur = case when (d -> 'priceEur') is not null then (d ->> 'priceEur')::double precision
                           else price_eur end,
          scraped_at = (d ->> 'scrapedAt')::timestamptz,
          version = e.version
        where id = stream_entity_id(e.stream);
      when 'FileStored' then
        insert into stored_file (id, name, size, sha256, imported_listings, created_at)
        values ((d ->> 'id')::uuid, d ->> 'name', (d ->> 'size')::integer, d ->> 'sha256',
                (d ->> 'importedListings')::integer, e.created_at);
      when 'LeaderElected' then
        null; -- the audit trail; leadership is read from the election and the Node table
      else
        raise exception 'no projection for event type %', e.type;
    end case;
  end $$`;

/**
 * The entry point: project the logged events at these positions, as if one by one in position
 * order. A ListingAdded whose stream has no other event among them (an import, a queue batch:
 * the common case) depends on nothing else here, so all of those go in one INSERT; every other
 * event goes through project_event in position order. (Split by a window over the events, not by
 * array membership per row, which is quadratic in a big import.)
 */
const PROJECT_EVENTS = `
  create or replace function project_events(p_positions bigint[]) returns void
    language plpgsql volatile
    -- As append_batch: the plans do not depend on the values, so plan each statement once.
    set plan_cache_mode = force_generic_plan as $$
  declare
    v_alone bigint[];
    v_rest bigint[];
    v_event event;
  begin
    if p_positions is null then
      return;
    end if;
    select array_agg(x.position) filter (where x.alone),
           array_agg(x.position order by x.position) filter (where not x.alone)
      into v_alone, v_rest
      from (select e.position,
                   e.type = 'ListingAdded' and count(*) over (partition by e.stream) = 1 as alone
              from event e where e.position = any(p_positions)) x;
    if v_alone is not null then
      perform project_listings_added(v_alone);
    end if;
    if v_rest is not null then
      for v_event in select * from event e where e.position = any(v_rest) order by e.position loop
        perform project_event(v_event);
      end loop;
    end if;
  end $$`;

/** The statements that install the projection, in order. */
export const PROJECTION_SQL: readonly string[] = [
  STREAM_ENTITY_ID,
  PROJECT_LISTINGS_ADDED,
  PROJECT_EVENT,
  PROJECT_EVENTS,
];
