/**
 * The clusterEvents feed, with memory: the last election transitions are kept, so that a
 * `clusterEvents(since:)` subscriber — the gateway reconnecting its feed to a node, a page
 * reloaded — gets what happened while it was away, then the live ones, nothing missed in between
 * (the replay and the listener are set up in one synchronous step) and nothing twice.
 */
import { Repeater } from '@repeaterjs/repeater';
import type { ClusterEventDto } from './ports.js';

/** A transition's identity: one node, one term, one change of role, one instant. */
export function transitionKey(e: ClusterEventDto): string {
  return `${e.nodeId}|${e.term}|${e.from}|${e.to}|${e.at.getTime()}`;
}

export class RecentTransitions {
  private readonly items: ClusterEventDto[] = [];
  private readonly keys = new Set<string>();
  private readonly listeners = new Set<(event: ClusterEventDto) => void>();

  constructor(private readonly limit = 256) {}

  /** Keeps and publishes it; false (and nothing published) when it was seen before. */
  add(event: ClusterEventDto): boolean {
    const key = transitionKey(event);
    if (this.keys.has(key)) return false;
    this.items.push(event);
    this.keys.add(key);
    if (this.items.length > this.limit) {
      const dropped = this.items.shift() as ClusterEventDto;
      this.keys.delete(transitionKey(dropped));
    }
    for (const listener of this.listeners) listener(event);
    return true;
  }

  /** The kept ones at or after `since`, in the order they were added. */
  since(since: Date): ClusterEventDto[] {
    return this.items.filter((e) => e.at.getTime() >= since.getTime());
  }

  /** The live transitions, after the kept ones from `since` when it is given. */
  subscribe(since?: Date): AsyncIterableIterator<ClusterEventDto> {
    return new Repeater<ClusterEventDto>(async (push, stop) => {
      const listener = (event: ClusterEventDto) => void push(event);
      this.listeners.add(listener);
      if (since) for (const event of this.since(since)) void push(event);
      await stop;
      this.listeners.delete(listener);
    });
  }
}
