import type { Fence } from '../store/event-store.js';
import type { NotLeaderError } from '../store/store-errors.js';

/**
 * What commands need of leadership (the fence keeper, nodes/leadership/fence-keeper.ts, offers it): the fence to write under
 * (or a NOT_LEADER refusal), and the error a lost fence becomes (it also tells leadership).
 */
export interface FenceAccess {
  writeFence(): Promise<Fence>;
  fenceLost(error: NotLeaderError): Error;
}
