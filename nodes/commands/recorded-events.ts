/**
 * A stream's events typed by the decider that owns the stream, checked once where they leave the
 * store. The store validated each event's data against its schema when it was appended, so the
 * type names the shape; an event of a type the decider does not know means the stream id was
 * wrong (a bug), and is refused here rather than folded into nonsense.
 */
import type { DomainEvent } from '../../schema/events.js';
import type { Decider } from '../domain/decider.js';
import type { StoredEvent } from '../store/stored-event.js';

/** A stored event whose type and data are those of `E`. */
export type Recorded<E extends DomainEvent> = StoredEvent & E;

export function recordedOf<C, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
  events: readonly StoredEvent[],
): Recorded<E>[] {
  const known: ReadonlySet<string> = new Set(decider.eventTypes);
  const isOwn = (e: StoredEvent): e is Recorded<E> => known.has(e.type);
  return events.map((e) => {
    if (!isOwn(e)) {
      throw new Error(
        `stream ${e.stream} holds a ${e.type} event (version ${e.version}); expected one of ${[...known].join(', ')}`,
      );
    }
    return e;
  });
}

/** The state after `events`, from the decider's initial state. */
export function fold<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: readonly E[]): S {
  return events.reduce(decider.evolve, decider.initialState);
}

/** The events up to and including global position `position` (what a repeat's answer is made of). */
export function upTo<T extends { readonly position: number }>(events: readonly T[], position: number): T[] {
  return events.filter((e) => e.position <= position);
}
