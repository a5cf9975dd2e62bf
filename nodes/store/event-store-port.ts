/**
 * The event store as commands see it: what a command handler reads and appends, and nothing else
 * (no fence claim, node registry or feed). The PostgreSQL store (event-store.ts) satisfies it, and
 * so does the in-memory one (in-memory-event-store.ts) the command tests run on; both pass the
 * same contract (event-store-contract.ts).
 */
import type { AppendOptions, AppendResult, Fence, StreamAppend } from './event-store.js';
import type { StoredEvent } from './stored-event.js';

export interface EventStore {
  /** One stream's events in version order (empty for a stream that does not exist). */
  readStream(stream: string): Promise<StoredEvent[]>;
  /** Several streams at once, each in version order; every stream asked for is a key. */
  readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>>;
  /**
   * Several streams (as readStreams) and the earlier uses of several idempotency keys (key → the
   * first event of the append that used it), in one read.
   */
  readStreamsAndKeys(
    streams: readonly string[],
    keys: readonly string[],
  ): Promise<{ histories: Map<string, StoredEvent[]>; firsts: Map<string, StoredEvent> }>;
  /** The first event of the append that used this key, if one did. */
  findByIdempotencyKey(key: string): Promise<StoredEvent | null>;
  /**
   * Append under `fence`, all entries or none: refused with NotLeaderError when `fence` is not the
   * current fence, VersionConflictError when an entry's stream is not at its expectedVersion;
   * answered `duplicate` (nothing written) when the idempotency key was used before.
   */
  append(fence: Fence, appends: readonly StreamAppend[], options?: AppendOptions): Promise<AppendResult>;
  /** Several independent appends under one fence, each checked and settled on its own, in order. */
  appendAll(
    fence: Fence,
    items: readonly { readonly appends: readonly StreamAppend[]; readonly options?: AppendOptions }[],
  ): Promise<AppendResult>[];
}
