/**
 * The cluster's log: appending (one path for every event, a leader's LeaderElected included) and
 * reading.
 *
 * Every append first locks the single `leadership` row (the write fence, write-fence.ts) — but
 * for rehearsals, which keep nothing (rehearsal-fence.ts). That one lock does three jobs:
 *  - fencing: the append checks, under the lock, that its term and node are the fenced ones, and
 *    a claim for a higher term must wait for the lock, so a deposed leader cannot slip a write in
 *    after its successor's claim — even one paused through the whole election;
 *  - concurrency: stream versions are read and written with no other writer in between;
 *  - ordering: writers are serialized, so global positions become visible in commit order and a
 *    reader tailing `position > last` never skips an event committed "out of order". (Of the
 *    known answers — Emmett's xmin filter, Marten's high-water mark, Message DB's writer
 *    serialization — this is the last, applied to the whole log, because fencing needs it anyway.)
 */
import type { Context } from '@opentelemetry/api';
import { type RawBuilder, sql } from 'kysely';
import { type DomainEvent, eventSchemas } from '../../schema/events.js';
import type { EventMetadata } from './entities.js';
import { REHEARSAL_REFUSAL } from './rehearsal-fence.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';
import type { StoreSql } from './store-sql.js';
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

/** One append: its streams' events, written all or nothing under `fence`. */
export interface FencedAppend {
  readonly fence: Fence;
  readonly appends: readonly StreamAppend[];
  readonly options: AppendOptions;
  /** The caller's trace context, when tracing is on (traced-append.ts). */
  readonly trace?: Context;
}

export const EVENTS_CHANNEL = 'ensemble_events';

type EventSqlRow = Parameters<typeof toStoredEvent>[0];

/** What `append_batch` answers (see migration 0005). */
export interface BatchResult {
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
  /** A batch of rehearsals (./rehearsal-fence.ts): the answer it would have had; nothing was kept. */
  readonly rehearsed?: true;
}

/** One append as `append_batch` takes it (see migration 0005). */
interface AppendPayload {
  readonly entries: {
    readonly stream: string;
    readonly offset: number;
    readonly events: { readonly type: string; readonly data: unknown; readonly metadata: EventMetadata }[];
  }[];
}

/** Refuse to log an event whose data does not match its definition: the log is forever. */
export function validateAppends(appends: readonly StreamAppend[]): void {
  for (const a of appends) {
    for (const e of a.events) {
      const schema = eventSchemas[e.type];
      if (!schema) throw new Error(`unknown event type ${String(e.type)}`);
      const result = schema.safeParse(e.data);
      if (!result.success) {
        throw new Error(
          `invalid ${e.type} event: ${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}`,
        );
      }
    }
  }
}

export class EventLog {
  constructor(private readonly db: StoreSql) {}

  /**
   * A batch of appends in one statement, `append_batch` (migration 0005): it locks the fence,
   * checks each append (fence, idempotency key, expected versions), inserts the accepted appends'
   * events in one multi-row INSERT, stores their blobs and projects the events — one round trip
   * and, on the pool, one transaction (`db` may be a transaction the caller holds: a fence claim).
   * A refused append (conflict, repeated key, old fence) writes nothing and does not affect its
   * batch-mates; each settles on its own. Throws when the statement fails: nothing is stored.
   *
   * No two appends may write one stream or carry one idempotency key (group-commit.ts keeps
   * such an append for the next batch), so each can be checked on its own.
   */
  async appendBatch(
    batch: readonly FencedAppend[],
    db: StoreSql = this.db,
  ): Promise<PromiseSettledResult<AppendResult>[]> {
    const call = appendBatchCall(batch);
    const { rows } = await sql<{ result: BatchResult | string }>`
      select append_batch(${call.appends}::jsonb, ${call.blobs}) as result`.execute(db);
    return settleAppendBatch(call, rows[0]?.result);
  }

  async findByIdempotencyKey(key: string): Promise<StoredEvent | null> {
    const { firsts } = await this.readStreamsAndKeys([], [key]);
    return firsts.get(key) ?? null;
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
    // = any($n::text[]) plans as index lookups; the IS NOT NULL repeats the partial index's
    // predicate so that index serves the key lookup.
    const { rows } = await sql<EventSqlRow & { via: string }>`
      select 's' as via, e.* from event e
       where e.stream = any(${streams}::text[])
      union all
      select 'k' as via, e.* from event e
       where e.metadata ->> 'idempotencyKey' = any(${keys}::text[])
         and (e.metadata ->> 'idempotencyKey') is not null
      order by via, stream, version`.execute(this.db);
    for (const row of rows) {
      const e = toStoredEvent(row);
      if (row.via === 's') histories.get(e.stream)?.push(e);
      else if (e.metadata.idempotencyKey !== undefined) firsts.set(e.metadata.idempotencyKey, e);
    }
    return { histories, firsts };
  }

  async readStream(stream: string): Promise<StoredEvent[]> {
    return (await this.readStreams([stream])).get(stream) ?? [];
  }

  /** Several streams at once (a file import touches one stream per listing). */
  async readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>> {
    const out = new Map<string, StoredEvent[]>(streams.map((s) => [s, []]));
    if (streams.length === 0) return out;
    // One array parameter (100k streams for a big file would be 100k parameters as a list);
    // = any(…) plans as index lookups.
    const rows = await this.db
      .selectFrom('event')
      .selectAll()
      .where('stream', '=', sql<string>`any(${streams}::text[])`)
      .orderBy('stream')
      .orderBy('version')
      .execute();
    for (const row of rows) out.get(row.stream)?.push(toStoredEvent(row));
    return out;
  }

  /** Events in position order after `afterPosition`, optionally of one stream. */
  async readAll(args: { afterPosition?: number; limit: number; stream?: string }): Promise<StoredEvent[]> {
    let query = this.db
      .selectFrom('event')
      .selectAll()
      .where('position', '>', args.afterPosition ?? 0)
      .orderBy('position')
      .limit(args.limit);
    if (args.stream !== undefined) query = query.where('stream', '=', args.stream);
    return (await query.execute()).map(toStoredEvent);
  }

  async readLatestPosition(): Promise<number> {
    const row = await this.db
      .selectFrom('event')
      .select((eb) => eb.fn.max('position').as('position'))
      .executeTakeFirst();
    return Number(row?.position ?? 0);
  }
}

/** One `append_batch` call's arguments, with what its answer is read against. */
export interface AppendBatchCall {
  readonly batch: readonly FencedAppend[];
  readonly payload: readonly AppendPayload[];
  readonly createdAt: Date;
  /** The appends as one JSON document (the `p_appends` argument). */
  readonly appends: string;
  /** The blob bodies as one bytea[] (the `p_blobs` argument). */
  readonly blobs: RawBuilder<unknown>;
}

/** The arguments of `append_batch` for a batch (the fence claim passes them on: write-fence.ts). */
export function appendBatchCall(batch: readonly FencedAppend[]): AppendBatchCall {
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
  const blobs = bodies.length === 0 ? sql`'{}'::bytea[]` : sql`array[${sql.join(bodies)}]::bytea[]`;
  return { batch, payload, createdAt, appends: JSON.stringify(payload), blobs };
}

/** `append_batch`'s answer read back: one outcome per append of the call. */
export function settleAppendBatch(
  call: AppendBatchCall,
  raw: BatchResult | string | undefined,
): PromiseSettledResult<AppendResult>[] {
  const { batch, payload, createdAt } = call;
  if (raw === undefined) throw new Error('unreachable: append_batch returned no row');
  const result = typeof raw === 'string' ? (JSON.parse(raw) as BatchResult) : raw;
  const fence = result.fence ? { term: Number(result.fence.term), nodeId: result.fence.node } : null;
  const positions = new Map(
    result.inserted.map(([stream, version, position]) => [`${stream}\u0000${version}`, position]),
  );
  const settled = batch.map((p, i): PromiseSettledResult<AppendResult> => {
    const outcome = result.outcomes[i];
    try {
      if (outcome === undefined) throw new Error('unreachable: an append without an outcome');
      if (outcome === null) {
        const events = storedEvents(payload[i], p.fence, result.versions, positions, createdAt);
        return { status: 'fulfilled', value: { kind: 'appended', events } };
      }
      if (outcome.kind === 'duplicate') {
        return { status: 'fulfilled', value: { kind: 'duplicate', first: toStoredEvent(outcome.first) } };
      }
      if (outcome.kind === 'conflict') {
        throw new VersionConflictError(outcome.stream, outcome.expected, outcome.actual);
      }
      throw new NotLeaderError(
        fence,
        fence
          ? `${p.fence.nodeId} (term ${p.fence.term}) is not the fenced writer: ${fence.nodeId} holds term ${fence.term}`
          : 'no leader has claimed the fence yet',
      );
    } catch (reason) {
      return { status: 'rejected', reason };
    }
  });
  // A rehearsal's would-be answer is read as a real one (that code stays warm too), then refused.
  if (result.rehearsed)
    return batch.map(() => ({ status: 'rejected', reason: new NotLeaderError(null, REHEARSAL_REFUSAL) }));
  return settled;
}

/** An accepted append's events as stored: versions from the log's, positions from the INSERT. */
function storedEvents(
  sent: AppendPayload | undefined,
  fence: Fence,
  versions: Record<string, number>,
  positions: Map<string, number>,
  createdAt: Date,
): StoredEvent[] {
  if (!sent) throw new Error('unreachable: an accepted append without its payload');
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
        term: fence.term,
        nodeId: fence.nodeId,
        createdAt,
      };
    }),
  );
}
