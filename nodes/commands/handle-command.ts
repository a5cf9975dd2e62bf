/**
 * The one way a command is handled (Emmett's handleCommand): read the stream, fold `evolve`,
 * `decide`, append with the stream's version as the expected one; on a version conflict (a
 * concurrent writer got there first) decide again on the new state, a bounded number of times.
 * An idempotency key makes a repeat answer as the first attempt did, with nothing written: the
 * gateway retries a write across a failover with the same key.
 */
import type { DomainEvent } from '../../schema/events.js';
import type { Decider } from '../domain/decider.js';
import { DomainError } from '../domain/domain-error.js';
import type { AppendOptions, Fence, StreamAppend } from '../store/event-store.js';
import type { EventStore } from '../store/event-store-port.js';
import { VersionConflictError } from '../store/store-errors.js';
import type { StoredEvent } from '../store/stored-event.js';
import { fold, type Recorded, recordedOf, upTo } from './recorded-events.js';

/** Attempts of one command before a run of version conflicts is the caller's. */
export const COMMAND_ATTEMPTS = 5;

/** Where a command writes: the store, under this node's write fence. */
export interface CommandContext {
  readonly store: EventStore;
  readonly fence: Fence;
}

export interface HandleOptions<C, E extends DomainEvent> extends CommandContext {
  readonly idempotencyKey?: string | undefined;
  /**
   * The event types that start an append of this kind of command: a key whose first use started
   * with another type was used for another kind of command, and is refused.
   */
  readonly repeatOf: readonly E['type'][];
  /**
   * A key first used on another stream: refused with this error when given, else answered with
   * that stream (a create's repeat has a fresh id; a listing's key may have been used for another url).
   */
  readonly keyElsewhere?: (key: string) => Error;
  /** The stream id was just made up (a new random id): it cannot exist yet, so it is not read. */
  readonly newStream?: boolean;
  /** The client pinned the version it decided on: a conflict is then its to resolve, not retried. */
  readonly pinned?: boolean;
  /** What a conflict that is not retried becomes (by default the VersionConflictError itself). */
  readonly conflict?: (error: VersionConflictError) => Error;
  /** Appends to other streams that go with the decision, in the same all-or-nothing append. */
  readonly alongside?: (command: C, events: readonly E[]) => Promise<readonly StreamAppend[]>;
  readonly blobs?: AppendOptions['blobs'];
}

export interface CommandResult<E extends DomainEvent, S> {
  /** The stream as the answer sees it: all of it, or for a repeat up to the first attempt's append. */
  readonly events: readonly Recorded<E>[];
  readonly state: S;
  /** `repeat`: an earlier append had the key; `unchanged`: decide found nothing to do. */
  readonly outcome: 'appended' | 'unchanged' | 'repeat';
}

export async function handleCommand<C extends { readonly type: string }, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
  streamId: string,
  /** The command, or how to make it from the current state (computed again on a retry). */
  command: C | ((state: S) => C),
  options: HandleOptions<C, E>,
): Promise<CommandResult<E, S>> {
  const { store, fence, idempotencyKey } = options;
  const answerRepeat = async (first: StoredEvent): Promise<CommandResult<E, S>> => {
    checkRepeat(first, streamId, options);
    const events = upTo(recordedOf(decider, await store.readStream(first.stream)), first.position);
    return { events, state: fold(decider, events), outcome: 'repeat' };
  };
  // A repeat is found before deciding, so it is answered as the first attempt was, not decided
  // anew on a stream that moved on. Not for a new stream: its decision cannot differ, and the
  // append itself finds the key (a `duplicate`, answered the same way) — one round trip fewer
  // on every create, the write a client waits on after a failover among them.
  if (idempotencyKey !== undefined && !options.newStream) {
    const first = await store.findByIdempotencyKey(idempotencyKey);
    if (first) return answerRepeat(first);
  }
  for (let attempt = 1; ; attempt++) {
    const events = options.newStream ? [] : recordedOf(decider, await store.readStream(streamId));
    const state = fold(decider, events);
    const current = typeof command === 'object' ? command : command(state);
    const decided = decider.decide(current, state);
    if (decided.length === 0) return { events, state, outcome: 'unchanged' };
    const appends: StreamAppend[] = [
      { stream: streamId, expectedVersion: events.at(-1)?.version ?? 0, events: decided },
      ...((await options.alongside?.(current, decided)) ?? []),
    ];
    try {
      const result = await store.append(fence, appends, appendOptions(idempotencyKey, options.blobs));
      // The key was used between the look-up above and this append.
      if (result.kind === 'duplicate') return answerRepeat(result.first);
      const own = recordedOf(
        decider,
        result.events.filter((e) => e.stream === streamId),
      );
      return {
        events: [...events, ...own],
        state: decided.reduce(decider.evolve, state),
        outcome: 'appended',
      };
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (options.pinned || attempt >= COMMAND_ATTEMPTS) throw options.conflict?.(error) ?? error;
    }
  }
}

/**
 * An earlier use of a key may answer this command only when it was this kind of command, and
 * (with `keyElsewhere`) on this stream.
 */
export function checkRepeat<E extends DomainEvent>(
  first: StoredEvent,
  streamId: string,
  policy: Pick<HandleOptions<unknown, E>, 'repeatOf' | 'keyElsewhere'>,
): void {
  const key = first.metadata.idempotencyKey ?? '';
  if (!(policy.repeatOf as readonly string[]).includes(first.type)) {
    throw DomainError.badInput(`idempotencyKey ${key} was already used for another kind of command`);
  }
  if (first.stream !== streamId && policy.keyElsewhere) throw policy.keyElsewhere(key);
}

export function appendOptions(
  idempotencyKey: string | undefined,
  blobs?: AppendOptions['blobs'],
): AppendOptions {
  return {
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(blobs === undefined ? {} : { blobs }),
  };
}
