/**
 * Writes: each command loads its stream(s), asks the pure decider what happens, and appends the
 * result under this node's write fence with the stream version it decided on. A concurrent
 * writer that got there first makes the append fail; the command then decides again on the new
 * state (unless the client pinned an expectedVersion, which is then a CONFLICT).
 */
import { createHash, randomUUID } from 'node:crypto';
import { ApiError } from '../../api/errors.js';
import type {
  Commands,
  ListingDto,
  ListingInputDto,
  StoredFileDto,
  TaskDto,
  TaskInput,
  TaskPatch,
} from '../../api/ports.js';
import { isUuid } from '../api-ports/read-models.js';
import { DomainError } from '../domain/domain-error.js';
import { decideStoreFile, evolveFile, type FileEvent, initialFileState } from '../domain/file-decider.js';
import {
  decideListing,
  evolveListing,
  initialListingState,
  type ListingEvent,
  type ListingInput,
  type ListingState,
  listingStreamId,
} from '../domain/listing-decider.js';
import {
  decideTask,
  evolveTask,
  initialTaskState,
  type TaskEvent,
  type TaskState,
} from '../domain/task-decider.js';
import type { WriteFenceAccess } from '../leadership/fence-keeper.js';
import type { AppendOptions, EventStore, StreamAppend } from '../store/event-store.js';
import { NotLeaderError, VersionConflictError } from '../store/store-errors.js';
import type { StoredEvent } from '../store/stored-event.js';

const RETRIES = 5;

export class NodeCommands implements Commands {
  constructor(
    private readonly store: EventStore,
    private readonly leadership: WriteFenceAccess,
  ) {}

  async createTask(input: TaskInput, idempotencyKey?: string): Promise<TaskDto> {
    return this.guard(async () => {
      const fence = await this.leadership.writeFence();
      const earlier = await this.earlier(idempotencyKey, 'TaskCreated');
      if (earlier) return taskAsOf(await this.store.readStream(earlier.stream), earlier.position);
      const id = randomUUID();
      const events = decideTask(
        {
          type: 'CreateTask',
          id,
          title: input.title,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.status === undefined ? {} : { status: input.status }),
          createdBy: fence.nodeId,
        },
        initialTaskState,
      );
      const result = await this.store.append(
        fence,
        [{ stream: `task-${id}`, expectedVersion: 0, events }],
        opts(idempotencyKey),
      );
      if (result.kind === 'duplicate') {
        return taskAsOf(await this.store.readStream(result.first.stream), result.first.position);
      }
      return taskAsOf(result.events, Number.POSITIVE_INFINITY);
    });
  }

  async updateTask(
    id: string,
    patch: TaskPatch,
    expectedVersion?: number,
    idempotencyKey?: string,
  ): Promise<TaskDto> {
    return this.guard(async () => {
      const task = await this.onTask(id, expectedVersion, idempotencyKey, (state) =>
        decideTask(
          {
            type: 'UpdateTask',
            id,
            ...(patch.title === undefined ? {} : { title: patch.title }),
            ...(patch.description === undefined ? {} : { description: patch.description }),
            ...(patch.status === undefined ? {} : { status: patch.status }),
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
          },
          state,
        ),
      );
      if (!task) throw ApiError.notFound(`task ${id} was deleted`);
      return task;
    });
  }

  async deleteTask(id: string, expectedVersion?: number, idempotencyKey?: string): Promise<boolean> {
    return this.guard(async () => {
      await this.onTask(id, expectedVersion, idempotencyKey, (state) =>
        decideTask(
          { type: 'DeleteTask', id, ...(expectedVersion === undefined ? {} : { expectedVersion }) },
          state,
        ),
      );
      return true;
    });
  }

  async upsertListing(input: ListingInputDto, idempotencyKey?: string): Promise<ListingDto> {
    return this.guard(async () => {
      const fence = await this.leadership.writeFence();
      const earlier = await this.earlier(idempotencyKey, 'ListingAdded', 'ListingChanged');
      if (earlier) return listingAsOf(await this.store.readStream(earlier.stream), earlier.position);
      const stream = `listing-${listingStreamId(input.url)}`;
      for (let attempt = 1; ; attempt++) {
        const history = await this.store.readStream(stream);
        const state = history.reduce(
          (s, e) => evolveListing(s, e as unknown as ListingEvent),
          initialListingState,
        );
        const events = decideListing(
          { type: 'UpsertListing', ...input, scrapedAt: input.scrapedAt.toISOString() },
          state,
        );
        if (events.length === 0) return listingAsOf(history, Number.POSITIVE_INFINITY);
        try {
          const result = await this.store.append(
            fence,
            [{ stream, expectedVersion: state.version, events }],
            opts(idempotencyKey),
          );
          if (result.kind === 'duplicate')
            return listingAsOf(await this.store.readStream(result.first.stream), result.first.position);
          return listingAsOf([...history, ...result.events], Number.POSITIVE_INFINITY);
        } catch (error) {
          if (!(error instanceof VersionConflictError) || attempt >= RETRIES) throw error;
        }
      }
    });
  }

  /**
   * Many listings at once, set-based: one query for every stream's history and the keys' earlier
   * uses, a decision per listing in memory (listings of one url folded in input
   * order), then every append queued together so the store writes them as one batch — a few
   * statements for the whole request rather than a few per listing. Each listing is still its
   * own append with its own key and expected version; one that meets a concurrent writer is done
   * again on its own, as upsertListing would. Answers in input order.
   */
  async upsertListings(
    inputs: readonly ListingInputDto[],
    idempotencyKeys?: readonly (string | undefined)[],
  ): Promise<ListingDto[]> {
    if (inputs.length === 0) return [];
    return this.guard(async () => {
      const fence = await this.leadership.writeFence();
      const keys = inputs.map((_, i) => idempotencyKeys?.[i]);
      const own = inputs.map((input) => `listing-${listingStreamId(input.url)}`);
      // One query for the streams and the keys' earlier uses.
      const { histories, firsts: earlier } = await this.store.readStreamsAndKeys(
        [...new Set(own)],
        this.checkedKeys(keys),
      );
      this.checkKeyTypes(earlier, 'ListingAdded', 'ListingChanged');
      // A key used before for a listing of another url answers with that listing, as upsertListing does.
      const elsewhere = [...earlier.values()].map((e) => e.stream).filter((st) => !histories.has(st));
      for (const [st, events] of await this.store.readStreams([...new Set(elsewhere)]))
        histories.set(st, events);
      const streams = inputs.map((_, i) => earlier.get(keys[i] as string)?.stream ?? (own[i] as string));
      const answers: (ListingDto | undefined)[] = new Array(inputs.length);
      /** Each stream's state, including what this request decided before (not yet stored). */
      const states = new Map<string, ListingState>();
      const planned: { index: number; append: StreamAppend; after: ListingState }[] = [];
      inputs.forEach((input, i) => {
        const stream = streams[i] as string;
        const history = histories.get(stream) ?? [];
        const first = earlier.get(keys[i] as string);
        if (first) {
          answers[i] = listingAsOf(history, first.position);
          return;
        }
        const state =
          states.get(stream) ??
          history.reduce((s, e) => evolveListing(s, e as unknown as ListingEvent), initialListingState);
        const events = decideListing(
          { type: 'UpsertListing', ...input, scrapedAt: input.scrapedAt.toISOString() },
          state,
        );
        if (events.length === 0) {
          answers[i] = listingOf(state);
          return;
        }
        const after = events.reduce(evolveListing, state);
        states.set(stream, after);
        planned.push({ index: i, append: { stream, expectedVersion: state.version, events }, after });
      });
      const results = await Promise.allSettled(
        this.store.appendAll(
          fence,
          planned.map((p) => ({ appends: [p.append], options: opts(keys[p.index]) })),
        ),
      );
      const again: number[] = [];
      for (const [n, result] of results.entries()) {
        const { index, after } = planned[n] as (typeof planned)[number];
        if (result.status === 'rejected') {
          if (!(result.reason instanceof VersionConflictError)) throw result.reason;
          again.push(index);
        } else if (result.value.kind === 'appended') {
          answers[index] = listingOf(after);
        } else {
          const first = result.value.first;
          answers[index] = listingAsOf(await this.store.readStream(first.stream), first.position);
        }
      }
      // Met a concurrent writer (or an earlier listing of this request that did): one by one.
      for (const index of again) {
        answers[index] = await this.upsertListing(inputs[index] as ListingInputDto, keys[index]);
      }
      return answers.map((a) => {
        if (!a) throw new Error('unreachable: a listing without an answer');
        return a;
      });
    });
  }

  async uploadFile(file: { name: string; bytes: Buffer }, idempotencyKey?: string): Promise<StoredFileDto> {
    return this.guard(async () => {
      const fence = await this.leadership.writeFence();
      const sha256 = createHash('sha256').update(file.bytes).digest('hex');
      const stream = `file-${sha256}`;
      for (let attempt = 1; ; attempt++) {
        const history = await this.store.readStream(stream);
        const state = history.reduce((s, e) => evolveFile(s, e as unknown as FileEvent), initialFileState);
        const decision = decideStoreFile(
          { type: 'StoreFile', id: randomUUID(), name: file.name, bytes: file.bytes, sha256 },
          state,
        );
        if (decision.events.length === 0) return fileAsOf(history);
        const appends: StreamAppend[] = [
          { stream, expectedVersion: state.version, events: decision.events },
          ...(await this.listingAppends(decision.listings)),
        ];
        try {
          const result = await this.store.append(fence, appends, {
            ...opts(idempotencyKey),
            blobs: [{ sha256, content: file.bytes }],
          });
          if (result.kind === 'duplicate') return fileAsOf(await this.store.readStream(result.first.stream));
          return fileAsOf(result.events.filter((e) => e.stream === stream));
        } catch (error) {
          if (!(error instanceof VersionConflictError) || attempt >= RETRIES) throw error;
        }
      }
    });
  }

  /** One append per listing of an imported file that actually changes something. */
  private async listingAppends(listings: readonly ListingInput[]): Promise<StreamAppend[]> {
    const streams = listings.map((l) => `listing-${listingStreamId(l.url)}`);
    const histories = await this.store.readStreams(streams);
    const appends: StreamAppend[] = [];
    listings.forEach((listing, i) => {
      const stream = streams[i] as string;
      const state = (histories.get(stream) ?? []).reduce(
        (s, e) => evolveListing(s, e as unknown as ListingEvent),
        initialListingState,
      );
      const events = decideListing({ type: 'UpsertListing', ...listing }, state);
      if (events.length > 0) appends.push({ stream, expectedVersion: state.version, events });
    });
    return appends;
  }

  private async onTask(
    id: string,
    expectedVersion: number | undefined,
    idempotencyKey: string | undefined,
    decide: (state: TaskState) => TaskEvent[],
  ): Promise<TaskDto | null> {
    const fence = await this.leadership.writeFence();
    if (!isUuid(id)) throw ApiError.notFound(`no task ${id}`);
    const stream = `task-${id}`;
    // A repeat (a gateway retrying across a failover) answers as the first attempt did, before
    // the decider could call the now-moved version a conflict. A repeated delete has no task left.
    const earlier = await this.earlier(idempotencyKey, 'TaskUpdated', 'TaskDeleted');
    if (earlier?.stream === stream) {
      if (earlier.type === 'TaskDeleted') return null;
      return taskAsOf(await this.store.readStream(stream), earlier.position);
    }
    if (earlier) throw ApiError.badUserInput(`idempotencyKey ${idempotencyKey} was used for another task`);
    for (let attempt = 1; ; attempt++) {
      const history = await this.store.readStream(stream);
      const state = history.reduce((s, e) => evolveTask(s, e as unknown as TaskEvent), initialTaskState);
      const events = decide(state);
      if (events.length === 0) return taskAsOf(history, Number.POSITIVE_INFINITY);
      try {
        const result = await this.store.append(
          fence,
          [{ stream, expectedVersion: state.version, events }],
          opts(idempotencyKey),
        );
        if (result.kind === 'duplicate') {
          if (result.first.type === 'TaskDeleted') return null;
          return taskAsOf(await this.store.readStream(stream), result.first.position);
        }
        if (events.some((e) => e.type === 'TaskDeleted')) return null;
        return taskAsOf([...history, ...result.events], Number.POSITIVE_INFINITY);
      } catch (error) {
        // A pinned expectedVersion was checked by the decider; a conflict here means another
        // writer slipped in between: with a pinned version that is the client's conflict.
        if (!(error instanceof VersionConflictError)) throw error;
        if (expectedVersion !== undefined || attempt >= RETRIES) {
          throw ApiError.conflict(`task ${id} changed concurrently; reload and retry`, {
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
            actualVersion: error.actual,
          });
        }
      }
    }
  }

  /** The first event of an earlier append with this key, when it was this kind of command. */
  private async earlier(key: string | undefined, ...types: string[]): Promise<StoredEvent | null> {
    if (key === undefined) return null;
    if (key.length === 0 || key.length > 200)
      throw ApiError.badUserInput('idempotencyKey must be 1-200 characters');
    const first = await this.store.findByIdempotencyKey(key);
    if (first && !types.includes(first.type)) {
      throw ApiError.badUserInput(`idempotencyKey ${key} was already used for another kind of command`);
    }
    return first;
  }

  /** The distinct keys given, each checked as `earlier` checks one. */
  private checkedKeys(keys: readonly (string | undefined)[]): string[] {
    const given = [...new Set(keys.filter((k): k is string => k !== undefined))];
    for (const key of given) {
      if (key.length === 0 || key.length > 200)
        throw ApiError.badUserInput('idempotencyKey must be 1-200 characters');
    }
    return given;
  }

  /** As `earlier` does for one key: a key used before for another kind of command is refused. */
  private checkKeyTypes(firsts: ReadonlyMap<string, StoredEvent>, ...types: string[]): void {
    for (const [key, first] of firsts) {
      if (!types.includes(first.type)) {
        throw ApiError.badUserInput(`idempotencyKey ${key} was already used for another kind of command`);
      }
    }
  }

  /** Map every refusal to the API's error codes. */
  private async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof DomainError) throw new ApiError(error.code, error.message, apiDetails(error));
      if (error instanceof NotLeaderError) throw this.leadership.fenceLost(error);
      if (error instanceof VersionConflictError) {
        throw ApiError.conflict(error.message, {
          expectedVersion: error.expected,
          actualVersion: error.actual,
        });
      }
      throw error;
    }
  }
}

/**
 * A decider's version conflict says `expected`/`actual`; the API's CONFLICT says `expectedVersion`/
 * `actualVersion` (as it does for a conflict found by the store), whichever check caught it.
 */
function apiDetails(error: DomainError): Record<string, unknown> {
  const { expected, actual, ...rest } = error.details ?? {};
  if (error.code !== 'CONFLICT' || typeof expected !== 'number' || typeof actual !== 'number') {
    return error.details ?? {};
  }
  return { ...rest, expectedVersion: expected, actualVersion: actual };
}

function opts(idempotencyKey: string | undefined): AppendOptions {
  return idempotencyKey === undefined ? {} : { idempotencyKey };
}

/** A task as its stream says, counting only events up to `position` (a repeat's first result). */
function taskAsOf(events: readonly StoredEvent[], position: number): TaskDto {
  const upTo = events.filter((e) => e.position <= position);
  const state = upTo.reduce((s, e) => evolveTask(s, e as unknown as TaskEvent), initialTaskState);
  const first = upTo[0];
  const last = upTo.at(-1);
  if (!state.task || !first || !last) throw ApiError.notFound('no such task');
  return { ...state.task, version: state.version, createdAt: first.createdAt, updatedAt: last.createdAt };
}

function listingAsOf(events: readonly StoredEvent[], position: number): ListingDto {
  const upTo = events.filter((e) => e.position <= position);
  return listingOf(
    upTo.reduce((s, e) => evolveListing(s, e as unknown as ListingEvent), initialListingState),
  );
}

function listingOf(state: ListingState): ListingDto {
  if (!state.listing) throw ApiError.notFound('no such listing');
  return {
    id: listingStreamId(state.listing.url),
    title: state.listing.title,
    url: state.listing.url,
    price: state.listing.price,
    currency: state.listing.currency,
    priceEur: state.listing.priceEur,
    scrapedAt: new Date(state.listing.scrapedAt),
    version: state.version,
  };
}

function fileAsOf(events: readonly StoredEvent[]): StoredFileDto {
  const state = events.reduce((s, e) => evolveFile(s, e as unknown as FileEvent), initialFileState);
  const first = events[0];
  if (!state.file || !first) throw ApiError.notFound('no such file');
  return { ...state.file, createdAt: first.createdAt };
}
