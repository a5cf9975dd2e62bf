/**
 * A node's commands on the in-memory event store, for fast command tests: this node (n1) holds
 * the fence; leadership is reduced to what commands ask of it (the FenceAccess port).
 */
import assert from 'node:assert/strict';
import { ApiError } from '../api/errors.js';
import type { FenceAccess } from '../nodes/commands/fence-access.js';
import { NodeCommands } from '../nodes/commands/node-commands.js';
import type { Fence } from '../nodes/store/event-store.js';
import { InMemoryEventStore } from '../nodes/store/in-memory-event-store.js';
import type { NotLeaderError } from '../nodes/store/store-errors.js';
import type { StoredEvent } from '../nodes/store/stored-event.js';

export const N1: Fence = { term: 1, nodeId: 'n1' };

export interface InMemoryNode {
  readonly commands: NodeCommands;
  readonly store: InMemoryEventStore;
  /** The fence losses commands reported to leadership. */
  readonly lost: NotLeaderError[];
  /** Every event in the log's streams of one kind (`task-`, `listing-`, `file-`), in position order. */
  events(prefix: string): StoredEvent[];
}

export function inMemoryNode(): InMemoryNode {
  const store = new InMemoryEventStore();
  store.claimFence(N1);
  const lost: NotLeaderError[] = [];
  const leadership: FenceAccess = {
    withWriteFence: (write) => write(N1),
    fenceLost(error) {
      lost.push(error);
      const leader = error.fence && { id: error.fence.nodeId, url: `http://${error.fence.nodeId}` };
      return ApiError.notLeader(leader, error.message);
    },
  };
  return {
    commands: new NodeCommands(store, leadership),
    store,
    lost,
    events: (prefix) => store.all().filter((e) => e.stream.startsWith(prefix)),
  };
}

/** The ApiError a command was refused with (fails when it was not refused so). */
export async function refusal(command: Promise<unknown>): Promise<ApiError> {
  const error = await command.then(
    (value) => assert.fail(`expected a refusal, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
  return error;
}
