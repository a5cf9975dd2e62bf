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
import { TransactionPropagation } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type DomainEvent, eventSchemas } from '../../schema/events.js';
import { type EventMetadata, EventRow } from './entities.js';
import { project } from './projections.js';
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

/** The most appends one transaction takes (bounds its size and its latency). */
const MAX_BATCH = 200;

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
    const row = rows[0];
    return row ? { term: Number(row.term), nodeId: row.node_id } : null;
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
      const [event] = await this.insertEvents(
        em,
        fence,
        'cluster',
        version,
        [{ type: 'LeaderElected', data: { nodeId: fence.nodeId, term: fence.term, url } }],
        {},
      );
      return event ?? null;
    });
  }

  /**
   * Append under `fence`. Appends from this process are written by one writer, in batches:
   * whatever queued up while a transaction was committing goes into the next one, each append in
   * its own savepoint so that one refusal (a conflict, say) does not fail its batch-mates. This
   * is group commit: one fence lock, one commit and one fsync for many appends — and no pile of
   * transactions queueing on the fence row, which PostgreSQL handles badly.
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

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const outcomes: ({ ok: true; result: AppendResult } | { ok: false; error: unknown })[] = [];
    try {
      await this.em().transactional(async (em) => {
        for (const p of batch) {
          try {
            const result =
              batch.length === 1
                ? await this.appendIn(em, p)
                : await em.transactional((inner) => this.appendIn(inner as EntityManager, p), {
                    propagation: TransactionPropagation.NESTED,
                  });
            outcomes.push({ ok: true, result });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        // A lone append that failed rolls its transaction back instead of committing nothing.
        const only = outcomes[0];
        if (batch.length === 1 && only && !only.ok) throw only.error;
      });
    } catch (error) {
      // The commit itself failed (or the lone append did): nothing of this batch is stored.
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.ok) p.resolve(o.result);
      else p.reject(o?.error);
    });
  }

  private async appendIn(em: EntityManager, pending: PendingAppend): Promise<AppendResult> {
    const { fence, appends, options } = pending;
    const streams = appends.filter((a) => a.events.length > 0).map((a) => a.stream);
    {
      // The fence lock, the streams' versions and the idempotency key, in one round trip
      // (see migrations/0003-append-guard.ts for why that takes a function).
      const [row] = await em.execute<
        {
          fence_term: string | null;
          fence_node: string | null;
          versions: Record<string, number> | null;
          earlier: EventSqlRow | null;
        }[]
      >('select * from append_guard(?::jsonb, ?)', [
        // Arrays travel as JSON: the driver would spread a JS array into separate parameters.
        JSON.stringify(streams),
        options.idempotencyKey ?? null,
      ]);
      const current = row?.fence_term
        ? { term: Number(row.fence_term), nodeId: row.fence_node as string }
        : null;
      if (!current || current.term !== fence.term || current.nodeId !== fence.nodeId) {
        throw new NotLeaderError(
          current,
          current
            ? `${fence.nodeId} (term ${fence.term}) is not the fenced writer: ${current.nodeId} holds term ${current.term}`
            : 'no leader has claimed the fence yet',
        );
      }
      if (row?.earlier) return { kind: 'duplicate', first: toStoredEvent(row.earlier) } as const;
      for (const blob of options.blobs ?? []) {
        await em.execute('insert into blob (sha256, content) values (?, ?) on conflict (sha256) do nothing', [
          blob.sha256,
          Buffer.from(blob.content),
        ]);
      }
      const createdAt = new Date();
      const rows: Omit<StoredEvent, 'position'>[] = [];
      for (const a of appends) {
        if (a.events.length === 0) continue;
        const version = row?.versions?.[a.stream] ?? 0;
        if (a.expectedVersion !== 'any' && a.expectedVersion !== version) {
          throw new VersionConflictError(a.stream, a.expectedVersion, version);
        }
        a.events.forEach((e, i) => {
          // The key marks the first event of the append only (that is what the unique index holds).
          const metadata: EventMetadata = {
            ...(rows.length === 0 && options.idempotencyKey !== undefined
              ? { idempotencyKey: options.idempotencyKey }
              : {}),
            ...(options.causation !== undefined ? { causation: options.causation } : {}),
          };
          rows.push({
            stream: a.stream,
            version: version + i + 1,
            type: e.type,
            data: e.data as Record<string, unknown>,
            metadata,
            term: fence.term,
            nodeId: fence.nodeId,
            createdAt,
          });
        });
      }
      if (rows.length === 0) return { kind: 'appended', events: [] } as const;
      // One multi-row INSERT for the whole append; the notify trigger fires once, at commit.
      const positions = await em.insertMany(EventRow, rows);
      const stored = rows.map((r, i) => ({ ...r, position: Number(positions[i]) }));
      for (const e of stored) await project(em, e);
      return { kind: 'appended', events: stored } as const;
    }
  }

  async findByIdempotencyKey(key: string, em: EntityManager = this.em()): Promise<StoredEvent | null> {
    const rows = await em.execute<EventSqlRow[]>(
      `select * from event where metadata ->> 'idempotencyKey' = ? and (metadata ->> 'idempotencyKey') is not null`,
      [key],
    );
    return rows[0] ? toStoredEvent(rows[0]) : null;
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
    // One JSON parameter: MikroORM inlines an array parameter as a comma list, which made
    // `any(?)` a syntax error (and `in (?)` would be one literal per stream, 100k for a big file).
    const rows = await this.em().execute<EventSqlRow[]>(
      // = any(array(…)) plans as index lookups, where IN (subquery) may scan the whole log.
      'select * from event where stream = any(array(select jsonb_array_elements_text(?::jsonb))) order by stream, version',
      [JSON.stringify(streams)],
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
    const row = rows[0];
    if (row) return { term: Number(row.term), nodeId: row.node_id };
    // No fence yet: lock the Node table's writers out of racing us to create it. Table-level
    // lock on first claim only; it is released at commit like the row lock.
    await em.execute('lock table leadership in exclusive mode');
    const again = await em.execute<{ term: string; node_id: string }[]>(
      'select term, node_id from leadership where singleton',
    );
    return again[0] ? { term: Number(again[0].term), nodeId: again[0].node_id } : null;
  }

  private async streamVersion(em: EntityManager, stream: string): Promise<number> {
    const rows = await em.execute<{ version: number | null }[]>(
      'select max(version) as version from event where stream = ?',
      [stream],
    );
    return Number(rows[0]?.version ?? 0);
  }

  private async insertEvents(
    em: EntityManager,
    fence: Fence,
    stream: string,
    fromVersion: number,
    events: readonly DomainEvent[],
    firstMetadata: EventMetadata,
  ): Promise<StoredEvent[]> {
    const createdAt = new Date();
    const rows = events.map((e, i) => ({
      stream,
      version: fromVersion + i + 1,
      type: e.type,
      data: e.data as Record<string, unknown>,
      metadata: i === 0 ? firstMetadata : omitKey(firstMetadata),
      term: fence.term,
      nodeId: fence.nodeId,
      createdAt,
    }));
    const positions = await em.insertMany(EventRow, rows);
    return rows.map((r, i) => ({ ...r, position: Number(positions[i]) }));
  }
}

function omitKey(m: EventMetadata): EventMetadata {
  const { idempotencyKey: _key, ...rest } = m;
  return rest;
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
