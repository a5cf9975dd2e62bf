/**
 * The set-based form of handleCommand's decide step: many commands decided in memory on histories
 * read in one query. Commands on one stream are folded in list order, each on the state (and
 * expected version) the ones before it leave, although those are not yet stored.
 */
import type { DomainEvent } from '../../schema/events.js';
import type { Decider } from '../domain/decider.js';
import type { StreamAppend } from '../store/event-store.js';
import type { StoredEvent } from '../store/stored-event.js';
import { fold, recordedOf } from './recorded-events.js';

export interface StreamCommand<C> {
  readonly stream: string;
  readonly command: C;
}

export interface Decision<S, T> {
  /** The command decided on (as given, with whatever else the caller keeps beside it). */
  readonly of: T;
  /** The stream's state after this command. */
  readonly after: S;
  /** The append to make; absent when the command changes nothing. */
  readonly append?: StreamAppend;
}

export function decideMany<C, E extends DomainEvent, S, T extends StreamCommand<C>>(
  decider: Decider<C, E, S>,
  commands: readonly T[],
  histories: ReadonlyMap<string, readonly StoredEvent[]>,
): Decision<S, T>[] {
  const heads = new Map<string, { readonly state: S; readonly version: number }>();
  return commands.map((of) => {
    const { stream, command } = of;
    let head = heads.get(stream);
    if (!head) {
      const events = recordedOf(decider, histories.get(stream) ?? []);
      head = { state: fold(decider, events), version: events.at(-1)?.version ?? 0 };
    }
    const events = decider.decide(command, head.state);
    if (events.length === 0) {
      heads.set(stream, head);
      return { of, after: head.state };
    }
    const after = { state: events.reduce(decider.evolve, head.state), version: head.version + events.length };
    heads.set(stream, after);
    return { of, after: after.state, append: { stream, expectedVersion: head.version, events } };
  });
}
