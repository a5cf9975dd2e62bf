/**
 * An aggregate as one value, the decider pattern (as in Emmett): `decide` turns a command and the
 * folded state into the events to append (or throws a DomainError), `evolve` folds one event into
 * the state, `initialState` is the state of an empty stream. No I/O, clock or randomness.
 * `eventTypes` names what the aggregate's stream holds, so a read of it can be typed once, where
 * it leaves the store (see nodes/commands/recorded-events.ts).
 */
import type { DomainEvent } from '../../schema/events.js';

export interface Decider<Command, Event extends DomainEvent, State> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: State;
  readonly eventTypes: readonly Event['type'][];
}
