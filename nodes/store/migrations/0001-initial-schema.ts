import { Migration } from '@mikro-orm/migrations';

/**
 * The cluster's log (`event`), the write fence (`leadership`), the Node table, and the read
 * models projected from the log. `event` is append-only: a trigger refuses UPDATE, DELETE and
 * TRUNCATE, so not even a bug in this codebase can rewrite history.
 */
export class InitialSchema extends Migration {
  override up(): void {
    this.addSql(`
      create table node (
        id text primary key,
        url text not null,
        role text not null default 'FOLLOWER' check (role in ('FOLLOWER', 'CANDIDATE', 'LEADER')),
        term bigint not null default 0 check (term >= 0),
        last_seen_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table leadership (
        singleton boolean primary key default true check (singleton),
        term bigint not null check (term >= 1),
        node_id text not null references node (id),
        claimed_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table event (
        position bigint generated always as identity primary key,
        stream text not null,
        version integer not null check (version >= 1),
        type text not null,
        data jsonb not null,
        metadata jsonb not null default '{}'::jsonb,
        term bigint not null check (term >= 1),
        node_id text not null references node (id),
        created_at timestamptz not null default now(),
        unique (stream, version)
      )`);
    // One append per idempotency key: the key is kept on the first event of its append.
    this.addSql(`
      create unique index event_idempotency_key on event ((metadata ->> 'idempotencyKey'))
        where (metadata ->> 'idempotencyKey') is not null`);
    this.addSql(`create index event_type on event (type)`);
    this.addSql(`
      create function event_is_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'the event table is append-only (% refused)', tg_op;
      end $$`);
    this.addSql(`
      create trigger event_append_only before update or delete on event
        for each row execute function event_is_append_only()`);
    this.addSql(`
      create trigger event_no_truncate before truncate on event
        for each statement execute function event_is_append_only()`);

    this.addSql(`
      create table task (
        id uuid primary key,
        title text not null,
        description text,
        status text not null check (status in ('TODO', 'IN_PROGRESS', 'DONE')),
        created_by text not null references node (id),
        version integer not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index task_status_created on task (status, created_at, id)`);
    this.addSql(`create index task_created on task (created_at, id)`);
    this.addSql(`
      create table listing (
        id text primary key,
        url text not null unique,
        title text not null,
        price double precision not null,
        currency text not null,
        price_eur double precision not null,
        scraped_at timestamptz not null,
        version integer not null
      )`);
    this.addSql(`create index listing_price_eur on listing (price_eur)`);
    this.addSql(`
      create table blob (
        sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
        content bytea not null
      )`);
    this.addSql(`
      create table stored_file (
        id uuid primary key,
        name text not null,
        size integer not null check (size >= 0),
        sha256 text not null unique references blob (sha256),
        imported_listings integer not null,
        created_at timestamptz not null
      )`);
  }
}
