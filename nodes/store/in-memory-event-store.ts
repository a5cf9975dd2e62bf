/**
 * The event store in memory, with the PostgreSQL store's semantics (the same contract tests run
 * on both: event-store-contract.ts): the write fence (term and node; any other fence is refused
 * with NotLeaderError), expected versions (VersionConflictError), idempotency keys (a repeat
 * answers `duplicate` with the first append's first event) and appendAll checking each append on
 * its own, in order. For fast command tests; nothing is projected.
 */
import { type DomainEvent, eventSchemas } from '../../schema/events.js';
import type { EventMetadata } from './entities.js';
import type { AppendOptions, AppendResult, Fence, StreamAppend } from './event-store.js';
import type { EventStore } from './event-store-port.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';
import type { StoredEvent } from './stored-event.js';

export class InMemoryEventStore implements EventStore {
  private fence: Fence | null = null;
  private position = 0;
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly keys = new Map<string, StoredEvent>();
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly interleaved: (() => unknown)[] = [];
  private interleaving = false;
  /** How many appends were checked (refused ones included): lets a test see that nothing was tried. */
  appendsTried = 0;

  /** Take the write fence, as a new leader does: only for a higher term (its own fence again is a no-op). */
  claimFence(fence: Fence): void {
    const current = this.fence;
    if (current && current.term === fence.term && current.nodeId === fence.nodeId) return;
    if (current && current.term >= fence.term) {
      throw new NotLeaderError(
        current,
        `term ${fence.term} cannot claim the fence: ${current.nodeId} holds term ${current.term}`,
      );
    }
    this.fence = { ...fence };
  }

  /**
   * A concurrent writer: `write` runs once, just before the next append (or appendAll) is checked,
   * as another request's append committing between this one's read and its write would. Several
   * calls queue one writer per coming append.
   */
  beforeNextAppend(write: () => unknown): void {
    this.interleaved.push(write);
  }

  /** Every event in the log, in position order (what a test checks was or was not written). */
  all(): StoredEvent[] {
    return [...this.streams.values()].flat().sort((a, b) => a.position - b.position);
  }

  /** A stored blob's content (what an upload wrote beside its FileStored). */
  blob(sha256: string): Uint8Array | undefined {
    return this.blobs.get(sha256);
  }

  async readStream(stream: string): Promise<StoredEvent[]> {
    return [...(this.streams.get(stream) ?? [])];
  }

  async readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>> {
    return new Map(streams.map((s) => [s, [...(this.streams.get(s) ?? [])]]));
  }

  async readStreamsAndKeys(
    streams: readonly string[],
    keys: readonly string[],
  ): Promise<{ histories: Map<string, StoredEvent[]>; firsts: Map<string, StoredEvent> }> {
    const firsts = new Map<string, StoredEvent>();
    for (const key of keys) {
      const first = this.keys.get(key);
      if (first) firsts.set(key, first);
    }
    return { histories: await this.readStreams(streams), firsts };
  }

  async findByIdempotencyKey(key: string): Promise<StoredEvent | null> {
    return this.keys.get(key) ?? null;
  }

  append(fence: Fence, appends: readonly StreamAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = this.appendAll(fence, [{ appends, options }]);
    if (!result) throw new Error('unreachable: appendAll answered nothing for one append');
    return result;
  }

  appendAll(
    fence: Fence,
    items: readonly { readonly appends: readonly StreamAppend[]; readonly options?: AppendOptions }[],
  ): Promise<AppendResult>[] {
    // The concurrent writer's own appends do not call the next one in.
    const writer = this.interleaving ? undefined : this.interleaved.shift();
    // Asynchronous like a database round trip; the appends are then checked one after the other,
    // in order, each seeing what the ones before it wrote.
    const ready = (async () => {
      if (!writer) return;
      this.interleaving = true;
      try {
        await writer();
      } finally {
        this.interleaving = false;
      }
    })();
    return items.map(({ appends, options = {} }) => ready.then(() => this.write(fence, appends, options)));
  }

  private write(fence: Fence, appends: readonly StreamAppend[], options: AppendOptions): AppendResult {
    this.appendsTried++;
    for (const a of appends) for (const e of a.events) validate(e);
    const current = this.fence;
    if (!current || current.term !== fence.term || current.nodeId !== fence.nodeId) {
      throw new NotLeaderError(
        current,
        current
          ? `${fence.nodeId} (term ${fence.term}) is not the fenced writer: ${current.nodeId} holds term ${current.term}`
          : 'no leader has claimed the fence yet',
      );
    }
    const key = options.idempotencyKey;
    const first = key === undefined ? undefined : this.keys.get(key);
    if (first) return { kind: 'duplicate', first };
    // Every entry at its expected version (entries of one stream follow each other) before any write.
    const offsets = new Map<string, number>();
    for (const a of appends) {
      if (a.events.length === 0) continue;
      const offset = offsets.get(a.stream) ?? 0;
      const actual = this.versionOf(a.stream) + offset;
      if (a.expectedVersion !== 'any' && a.expectedVersion !== actual) {
        throw new VersionConflictError(a.stream, a.expectedVersion, actual);
      }
      offsets.set(a.stream, offset + a.events.length);
    }
    const createdAt = new Date();
    const written: StoredEvent[] = [];
    for (const a of appends) {
      const stream = this.streams.get(a.stream) ?? [];
      this.streams.set(a.stream, stream);
      for (const e of a.events) {
        // The key marks the append's first event only, as the PostgreSQL store's unique index does.
        const metadata: EventMetadata = {
          ...(written.length === 0 && key !== undefined ? { idempotencyKey: key } : {}),
          ...(options.causation === undefined ? {} : { causation: options.causation }),
        };
        const event: StoredEvent = {
          position: ++this.position,
          stream: a.stream,
          version: stream.length + 1,
          type: e.type,
          data: { ...e.data },
          metadata,
          term: fence.term,
          nodeId: fence.nodeId,
          createdAt,
        };
        stream.push(event);
        written.push(event);
      }
    }
    const head = written[0];
    if (key !== undefined && head) this.keys.set(key, head);
    for (const b of options.blobs ?? []) if (!this.blobs.has(b.sha256)) this.blobs.set(b.sha256, b.content);
    return { kind: 'appended', events: written };
  }

  private versionOf(stream: string): number {
    return this.streams.get(stream)?.length ?? 0;
  }
}

/** As the PostgreSQL store: an event whose data does not match its schema is never logged. */
function validate(e: DomainEvent): void {
  const schema = eventSchemas[e.type];
  if (!schema) throw new Error(`unknown event type ${String(e.type)}`);
  const result = schema.safeParse(e.data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid ${e.type} event: ${issue?.path.join('.')}: ${issue?.message}`);
  }
}
