/**
 * The event store: appends to the cluster's log with term fencing, optimistic concurrency and
 * idempotency, all in one transaction, and projects the new events into the read models in
 * that same transaction.
 *
 * Every append (and every leadership claim) first locks the single `leadership` row. That one
 * lock does three jobs:
 *  - fencing: the append checks, under the lock, that its term and node are the fenced ones, and
 *    a claim for a higher term must wait for the lock, so a deposed leader cannot slip a write in
 *    after its successor's claim — even one paused through the whole election;
 *  - concurrency: stream versions are read and written with no other writer in between;
 *  - ordering: writers are serialized, so global positions become visible in commit order and a
 *    reader tailing `position > last` never skips an event committed "out of order". (Of the
 *    known answers — Emmett's xmin filter, Marten's high-water mark, Message DB's writer
 *    serialization — this is the last, applied to the whole log, because fencing needs it anyway.)
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';
import { type DomainEvent, eventSchemas } from '../../schema/events.js';
import type { EventMetadata } from './entities.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';
import { type StoredEvent, toStoredEvent } from './stored-event.js';

export interface Fence {
  readonly term: number;
  readonly nodeId: string;
}

export interface StreamAppend {
  readonly stream: string;
  /** The stream's version the decision was made on (0: the stream must not exist yet), or 'any'. */
  readonly expectedVersion: number | 'any';
  readonly events: readonly DomainEvent[];
}

export interface AppendOptions {
  readonly idempotencyKey?: string;
  readonly causation?: string;
  /** Content-addressed file bodies the events refer to, written in the same transaction. */
  readonly blobs?: readonly { readonly sha256: string; readonly content: Uint8Array }[];
}

export type AppendResult =
  | { readonly kind: 'appended'; readonly events: readonly StoredEvent[] }
  /** The idempotency key was used before: nothing was appended; `first` is that append's first event. */
  | { readonly kind: 'duplicate'; readonly first: StoredEvent };

export const EVENTS_CHANNEL = 'ensemble_events';

type EventSqlRow = Parameters<typeof toStoredEvent>[0];

/**
 * The most appends one transaction takes (bounds its size and how long it holds the fence lock:
 * tens of milliseconds at 500). As many as one upsertListings request carries, so a
 * full batch from the queue consumer is one transaction (at 200 it was three, and ingest 10 %
 * slower: bench:ingest).
 */
const MAX_BATCH = 500;

/** What `append_batch` answers (see migration 0005). */
interface BatchResult {
  readonly fence: { readonly term: number | string; readonly node: string } | null;
  /** Per append, in batch order: null when it was appended, else why not. */
  readonly outcomes: readonly (
    | null
    | { readonly kind: 'notLeader' }
    | { readonly kind: 'duplicate'; readonly first: EventSqlRow }
    | {
        readonly kind: 'conflict';
        readonly stream: string;
        readonly expected: number;
        readonly actual: number;
      }
  )[];
  /** Each written stream's version before the batch. */
  readonly versions: Record<string, number>;
  /** [stream, version, position] of every inserted event. */
  readonly inserted: readonly [string, number, number][];
}

/** The streams an append writes to (those of its entries with events). */
function writtenStreams(appends: readonly StreamAppend[]): string[] {
  return appends.filter((a) => a.events.length > 0).map((a) => a.stream);
}

/** An accepted append's events as stored: versions from the log's, positions from the INSERT. */
function storedEvents(
  sent:
    | {
        entries: {
          stream: string;
          offset: number;
          events: { type: string; data: unknown; metadata: EventMetadata }[];
        }[];
      }
    | undefined,
  p: PendingAppend,
  fence: Fence | null,
  versions: Record<string, number>,
  positions: Map<string, number>,
  createdAt: Date,
): StoredEvent[] {
  if (!sent || !fence) throw new Error('unreachable: an accepted append without its payload or fence');
  return sent.entries.flatMap((entry) =>
    entry.events.map((e, k) => {
      const version = Number(versions[entry.stream] ?? 0) + entry.offset + k + 1;
      const position = positions.get(`${entry.stream}\u0000${version}`);
      if (position === undefined)
        throw new Error(`unreachable: no position returned for ${entry.stream}@${version}`);
      return {
        position: Number(position),
        stream: entry.stream,
        version,
        type: e.type,
        data: e.data as Record<string, unknown>,
        metadata: e.metadata,
        term: p.fence.term,
        nodeId: p.fence.nodeId,
        createdAt,
      };
    }),
  );
}

interface PendingAppend {
  readonly fence: Fence;
  readonly appends: readonly StreamAppend[];
  readonly options: AppendOptions;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class EventStore {
  private readonly queue: PendingAppend[] = [];
  private writing = false;

  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  /**
   * A statement whose parameters PostgreSQL binds ($1, $2, …) on the pool MikroORM runs on.
   * MikroORM's `execute` escapes every parameter into the SQL text in JavaScript, character by
   * character, which for a batch's JSON cost more than building it; the hot statements go here.
   */
  private async bound<T>(sql: string, parameters: readonly unknown[]): Promise<T[]> {
    const client = this.orm.em.getConnection().getClient() as unknown as Kysely<unknown>;
    const result = await client.executeQuery(CompiledQuery.raw(sql, [...parameters]));
    return result.rows as T[];
  }

  /** Register or refresh this node in the Node table (its own row only). */
  async reportNode(node: { id: string; url: string; role: string; term: number }): Promise<void> {
    await this.em().execute(
      `insert into node (id, url, role, term, last_seen_at) values (?, ?, ?, ?, now())
       on conflict (id) do update set url = excluded.url, role = excluded.role, term = excluded.term,
         last_seen_at = excluded.last_seen_at`,
      [node.id, node.url, node.role, node.term],
    );
  }

  async listNodes(): Promise<{ id: string; url: string; role: string; term: number; lastSeenAt: Date }[]> {
    const rows = await this.em().execute<
      { id: string; url: string; role: string; term: string; last_seen_at: Date }[]
    >('select id, url, role, term, last_seen_at from node order by id');
    return rows.map((r) => ({
      id: r.id,
      url: r.url,
      role: r.role,
      term: Number(r.term),
      lastSeenAt: new Date(r.last_seen_at),
    }));
  }

  async currentFence(): Promise<Fence | null> {
    const rows = await this.em().execute<{ term: string; node_id: string }[]>(
      'select term, node_id from leadership where singleton',
    );
    return toFence(rows[0]);
  }

  /**
   * Take the write fence for `fence.term` and log a LeaderElected event. Only a higher term than
   * the fenced one may claim (re-claiming one's own term is a no-op that succeeds).
   */
  async claimLeadership(fence: Fence, url: string): Promise<StoredEvent | null> {
    return this.em().transactional(async (em) => {
      await em.execute(
        `insert into node (id, url, role, term, last_seen_at) values (?, ?, 'LEADER', ?, now())
         on conflict (id) do update set url = excluded.url, role = 'LEADER', term = excluded.term,
           last_seen_at = excluded.last_seen_at`,
        [fence.nodeId, url, fence.term],
      );
      const current = await this.lockFence(em);
      if (current && current.term === fence.term && current.nodeId === fence.nodeId) return null;
      if (current && current.term >= fence.term) {
        throw new NotLeaderError(
          current,
          `term ${fence.term} cannot claim the fence: ${current.nodeId} holds term ${current.term}`,
        );
      }
      await em.execute(
        `insert into leadership (singleton, term, node_id, claimed_at) values (true, ?, ?, now())
         on conflict (singleton) do update set term = excluded.term, node_id = excluded.node_id,
           claimed_at = excluded.claimed_at`,
        [fence.term, fence.nodeId],
      );
      const version = await this.streamVersion(em, 'cluster');
      const [event] = await insertRows(em, [
        {
          stream: 'cluster',
          version: version + 1,
          type: 'LeaderElected',
          data: { nodeId: fence.nodeId, term: fence.term, url },
          metadata: {},
          term: fence.term,
          nodeId: fence.nodeId,
          createdAt: new Date(),
        },
      ]);
      return event ?? null;
    });
  }

  /**
   * Append under `fence`. Appends from this process are written by one writer, in batches:
   * whatever queued up while a transaction was committing goes into the next one (see
   * writeBatch). This is group commit: one fence lock, one insert, one commit and one fsync for
   * many appends — and no pile of transactions queueing on the fence row, which PostgreSQL
   * handles badly.
   */
  append(fence: Fence, appends: readonly StreamAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      for (const a of appends) for (const e of a.events) validate(e);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ fence, appends, options, resolve, reject });
      void this.drain();
    });
  }

  /**
   * Several independent appends under one fence, queued together so they go into one batch
   * (`append` of each in a loop would send the first alone). Each settles on its own.
   */
  appendAll(
    fence: Fence,
    items: readonly { readonly appends: readonly StreamAppend[]; readonly options?: AppendOptions }[],
  ): Promise<AppendResult>[] {
    const results = items.map(({ appends, options = {} }) => {
      try {
        for (const a of appends) for (const e of a.events) validate(e);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<AppendResult>((resolve, reject) => {
        this.queue.push({ fence, appends, options, resolve, reject });
      });
    });
    void this.drain();
    return results;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.writing = false;
    }
  }

  /**
   * The next batch: queued appends in order, up to MAX_BATCH, leaving for a later batch any that
   * writes a stream or carries an idempotency key of an append before it in the queue (taken or
   * left). So within a batch every append can be checked on its own, and appends to one stream
   * or with one key are still checked in the order they were queued.
   */
  private takeBatch(): PendingAppend[] {
    const taken: PendingAppend[] = [];
    const left: PendingAppend[] = [];
    const streams = new Set<string>();
    const keys = new Set<string>();
    for (const p of this.queue) {
      const own = writtenStreams(p.appends);
      const key = p.options.idempotencyKey;
      const clash =
        taken.length >= MAX_BATCH || (key !== undefined && keys.has(key)) || own.some((s) => streams.has(s));
      (clash ? left : taken).push(p);
      for (const s of own) streams.add(s);
      if (key !== undefined) keys.add(key);
    }
    this.queue.length = 0;
    this.queue.push(...left);
    return taken;
  }

  /**
   * The whole batch in one statement, `append_batch` (migration 0005): it locks the fence, checks
   * each append (fence, idempotency key, expected versions), inserts the accepted appends' events
   * in one multi-row INSERT, stores their blobs and projects the events — one round trip and one
   * transaction. A refused append (conflict, repeated key, old fence) writes nothing and does not
   * affect its batch-mates.
   */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const createdAt = new Date();
    const bodies: Buffer[] = [];
    const payload = batch.map((p) => {
      const key = p.options.idempotencyKey;
      let first = true;
      const offsets = new Map<string, number>();
      return {
        term: p.fence.term,
        node: p.fence.nodeId,
        ...(key === undefined ? {} : { key }),
        createdAt: createdAt.toISOString(),
        blobs: (p.options.blobs ?? []).map((b) => ({
          sha256: b.sha256,
          index: bodies.push(Buffer.from(b.content)) - 1,
        })),
        entries: p.appends.map((a) => {
          const offset = offsets.get(a.stream) ?? 0;
          offsets.set(a.stream, offset + a.events.length);
          return {
            stream: a.stream,
            expected: a.expectedVersion === 'any' ? null : a.expectedVersion,
            offset,
            events: a.events.map((e) => {
              // The key marks the first event of the append only (that is what the unique index holds).
              const metadata: EventMetadata = {
                ...(first && key !== undefined ? { idempotencyKey: key } : {}),
                ...(p.options.causation !== undefined ? { causation: p.options.causation } : {}),
              };
              first = false;
              return { type: e.type, data: e.data, metadata };
            }),
          };
        }),
      };
    });
    let result: BatchResult;
    try {
      const rows = await this.bound<{ result: BatchResult | string }>(
        // The appends as one JSON document; the blob bodies as one bytea parameter each.
        `select append_batch($1::jsonb, ${
          bodies.length === 0
            ? `'{}'::bytea[]`
            : `array[${bodies.map((_, i) => `$${i + 2}`).join(', ')}]::bytea[]`
        }) as result`,
        [JSON.stringify(payload), ...bodies],
      );
      const raw = rows[0]?.result;
      if (raw === undefined) throw new Error('unreachable: append_batch returned no row');
      result = typeof raw === 'string' ? (JSON.parse(raw) as BatchResult) : raw;
    } catch (error) {
      // The statement failed (a projection, the commit): nothing of this batch is stored.
      for (const p of batch) p.reject(error);
      return;
    }
    const fence = result.fence ? { term: Number(result.fence.term), nodeId: result.fence.node } : null;
    const positions = new Map(
      result.inserted.map(([stream, version, position]) => [`${stream}\u0000${version}`, position]),
    );
    batch.forEach((p, i) => {
      const outcome = result.outcomes[i];
      if (outcome === undefined) {
        p.reject(new Error('unreachable: an append without an outcome'));
      } else if (outcome === null) {
        try {
          p.resolve({
            kind: 'appended',
            events: storedEvents(payload[i], p, fence, result.versions, positions, createdAt),
          });
        } catch (error) {
          p.reject(error);
        }
      } else if (outcome.kind === 'notLeader') {
        p.reject(
          new NotLeaderError(
            fence,
            fence
              ? `${p.fence.nodeId} (term ${p.fence.term}) is not the fenced writer: ${fence.nodeId} holds term ${fence.term}`
              : 'no leader has claimed the fence yet',
          ),
        );
      } else if (outcome.kind === 'conflict') {
        p.reject(new VersionConflictError(outcome.stream, outcome.expected, outcome.actual));
      } else {
        p.resolve({ kind: 'duplicate', first: toStoredEvent(outcome.first) });
      }
    });
  }

  async findByIdempotencyKey(key: string, em: EntityManager = this.em()): Promise<StoredEvent | null> {
    const rows = await em.execute<EventSqlRow[]>(
      `select * from event where metadata ->> 'idempotencyKey' = ? and (metadata ->> 'idempotencyKey') is not null`,
      [key],
    );
    return rows[0] ? toStoredEvent(rows[0]) : null;
  }

  /**
   * In one query: several streams (each in version order, as readStreams) and the earlier uses
   * of several idempotency keys (key → the first event of its append, as findByIdempotencyKey).
   */
  async readStreamsAndKeys(
    streams: readonly string[],
    keys: readonly string[],
  ): Promise<{ histories: Map<string, StoredEvent[]>; firsts: Map<string, StoredEvent> }> {
    const histories = new Map<string, StoredEvent[]>(streams.map((s) => [s, []]));
    const firsts = new Map<string, StoredEvent>();
    if (streams.length === 0 && keys.length === 0) return { histories, firsts };
    const rows = await this.bound<EventSqlRow & { via: string }>(
      // = any($n::text[]) plans as index lookups; the IS NOT NULL repeats the partial index's
      // predicate so that index serves the key lookup.
      `select 's' as via, e.* from event e
        where e.stream = any($1::text[])
       union all
       select 'k' as via, e.* from event e
        where e.metadata ->> 'idempotencyKey' = any($2::text[])
          and (e.metadata ->> 'idempotencyKey') is not null
       order by via, stream, version`,
      [streams, keys],
    );
    for (const row of rows) {
      const e = toStoredEvent(row);
      if (row.via === 's') histories.get(e.stream)?.push(e);
      else if (e.metadata.idempotencyKey !== undefined) firsts.set(e.metadata.idempotencyKey, e);
    }
    return { histories, firsts };
  }

  async readStream(stream: string): Promise<StoredEvent[]> {
    const rows = await this.em().execute<EventSqlRow[]>(
      'select * from event where stream = ? order by version',
      [stream],
    );
    return rows.map(toStoredEvent);
  }

  /** Several streams at once (a file import touches one stream per listing). */
  async readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>> {
    const out = new Map<string, StoredEvent[]>(streams.map((s) => [s, []]));
    if (streams.length === 0) return out;
    // One array parameter, bound by PostgreSQL (MikroORM would inline it as a comma list, one
    // literal per stream: 100k for a big file); = any(…) plans as index lookups.
    const rows = await this.bound<EventSqlRow>(
      'select * from event where stream = any($1::text[]) order by stream, version',
      [streams],
    );
    for (const row of rows) out.get(row.stream)?.push(toStoredEvent(row));
    return out;
  }

  /** Events in position order after `afterPosition`, optionally of one stream. */
  async readAll(args: { afterPosition?: number; limit: number; stream?: string }): Promise<StoredEvent[]> {
    const after = args.afterPosition ?? 0;
    const rows =
      args.stream === undefined
        ? await this.em().execute<EventSqlRow[]>(
            'select * from event where position > ? order by position limit ?',
            [after, args.limit],
          )
        : await this.em().execute<EventSqlRow[]>(
            'select * from event where stream = ? and position > ? order by position limit ?',
            [args.stream, after, args.limit],
          );
    return rows.map(toStoredEvent);
  }

  async readLatestPosition(): Promise<number> {
    const rows = await this.em().execute<{ position: string | null }[]>(
      'select max(position) as position from event',
    );
    return Number(rows[0]?.position ?? 0);
  }

  private async lockFence(em: EntityManager): Promise<Fence | null> {
    const rows = await em.execute<{ term: string; node_id: string }[]>(
      'select term, node_id from leadership where singleton for update',
    );
    if (rows[0]) return toFence(rows[0]);
    // No fence yet: a row lock cannot hold a row that does not exist, so lock out other first
    // claims with a table lock (first claim only; released at commit like the row lock).
    await em.execute('lock table leadership in exclusive mode');
    const again = await em.execute<{ term: string; node_id: string }[]>(
      'select term, node_id from leadership where singleton',
    );
    return toFence(again[0]);
  }

  private async streamVersion(em: EntityManager, stream: string): Promise<number> {
    const rows = await em.execute<{ version: number | null }[]>(
      'select max(version) as version from event where stream = ?',
      [stream],
    );
    return Number(rows[0]?.version ?? 0);
  }
}

/**
 * One INSERT for all rows, returning each row's position. (MikroORM 7's `insertMany` returns one
 * key for a multi-row insert, and RETURNING has no guaranteed order, so positions are matched
 * back by stream and version, which are unique together.)
 */
async function insertRows(em: EntityManager, rows: Omit<StoredEvent, 'position'>[]): Promise<StoredEvent[]> {
  const returned = await em.execute<{ position: string; stream: string; version: number }[]>(
    `insert into event (stream, version, type, data, metadata, term, node_id, created_at)
     select r.stream, r.version, r.type, r.data, r.metadata, r.term, r.node_id, r.created_at
       from jsonb_to_recordset(?::jsonb) as r(stream text, version int, type text, data jsonb,
            metadata jsonb, term bigint, node_id text, created_at timestamptz)
     returning position, stream, version`,
    [
      JSON.stringify(
        rows.map((r) => ({
          stream: r.stream,
          version: r.version,
          type: r.type,
          data: r.data,
          metadata: r.metadata,
          term: r.term,
          node_id: r.nodeId,
          created_at: r.createdAt.toISOString(),
        })),
      ),
    ],
  );
  const positions = new Map(returned.map((r) => [`${r.stream}\u0000${r.version}`, Number(r.position)]));
  return rows.map((r) => {
    const position = positions.get(`${r.stream}\u0000${r.version}`);
    if (position === undefined)
      throw new Error(`unreachable: no position returned for ${r.stream}@${r.version}`);
    return { ...r, position };
  });
}

function toFence(row: { term: string | number; node_id: string } | undefined): Fence | null {
  return row ? { term: Number(row.term), nodeId: row.node_id } : null;
}

/** Refuse to log an event whose data does not match its definition: the log is forever. */
function validate(e: DomainEvent): void {
  const schema = eventSchemas[e.type];
  if (!schema) throw new Error(`unknown event type ${String(e.type)}`);
  const result = schema.safeParse(e.data);
  if (!result.success) {
    throw new Error(
      `invalid ${e.type} event: ${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}`,
    );
  }
}
