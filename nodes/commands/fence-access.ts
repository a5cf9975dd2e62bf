import type { Fence } from '../store/event-store.js';
import type { NotLeaderError } from '../store/store-errors.js';

/**
 * What commands need of leadership (the fence keeper, nodes/leadership/fence-keeper.ts, offers it):
 * to write under the fence (or a NOT_LEADER refusal), and the error a lost fence becomes (it also
 * tells leadership).
 */
export interface FenceAccess {
  /**
   * Runs `write` under this node's write fence. The whole write is run through here, not just the
   * fence taken, so that a leader handing over its leadership knows when the writes it let in
   * have been answered.
   */
  withWriteFence<T>(write: (fence: Fence) => Promise<T>): Promise<T>;
  fenceLost(error: NotLeaderError): Error;
}
