/**
 * The store a node writes and reads through: the log (event-log.ts) with group-committed appends
 * (group-commit.ts), and beside it the write fence (write-fence.ts) and the Node table
 * (node-registry.ts). Each is its own module; this file only puts them on one connection pool.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { tracingOn } from '../../common/tracing.js';
import {
  type AppendOptions,
  type AppendResult,
  EventLog,
  type Fence,
  type FencedAppend,
  type StreamAppend,
  validateAppends,
} from './event-log.js';
import { GroupCommit } from './group-commit.js';
import { NodeRegistry } from './node-registry.js';
import { storeSql } from './store-sql.js';
import type { StoredEvent } from './stored-event.js';
import { appendSpan, tracedBatchWrite } from './traced-append.js';
import { WriteFence } from './write-fence.js';

export type { AppendOptions, AppendResult, Fence, StreamAppend } from './event-log.js';
export { EVENTS_CHANNEL } from './event-log.js';

export class EventStore {
  readonly fence: WriteFence;
  readonly nodes: NodeRegistry;
  private readonly log: EventLog;
  private readonly groupCommit: GroupCommit;

  constructor(orm: MikroORM) {
    const db = storeSql(orm);
    this.log = new EventLog(db);
    this.nodes = new NodeRegistry(db);
    this.fence = new WriteFence(db);
    const write = (batch: readonly FencedAppend[]) => this.log.appendBatch(batch);
    this.groupCommit = new GroupCommit(tracingOn() ? tracedBatchWrite(write) : write);
  }

  /** Append under `fence` (group-committed: see group-commit.ts). */
  append(fence: Fence, appends: readonly StreamAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      validateAppends(appends);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!tracingOn()) return this.groupCommit.submit({ fence, appends, options });
    return appendSpan(fence, appends, (trace) => this.groupCommit.submit({ fence, appends, options, trace }));
  }

  /** Several independent appends under one fence, written in one batch; each settles on its own. */
  appendAll(
    fence: Fence,
    items: readonly { readonly appends: readonly StreamAppend[]; readonly options?: AppendOptions }[],
  ): Promise<AppendResult>[] {
    return items.map(({ appends, options }) => this.append(fence, appends, options));
  }

  findByIdempotencyKey(key: string): Promise<StoredEvent | null> {
    return this.log.findByIdempotencyKey(key);
  }

  readStreamsAndKeys(
    streams: readonly string[],
    keys: readonly string[],
  ): Promise<{ histories: Map<string, StoredEvent[]>; firsts: Map<string, StoredEvent> }> {
    return this.log.readStreamsAndKeys(streams, keys);
  }

  readStream(stream: string): Promise<StoredEvent[]> {
    return this.log.readStream(stream);
  }

  readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>> {
    return this.log.readStreams(streams);
  }

  readAll(args: { afterPosition?: number; limit: number; stream?: string }): Promise<StoredEvent[]> {
    return this.log.readAll(args);
  }

  readLatestPosition(): Promise<number> {
    return this.log.readLatestPosition();
  }
}
