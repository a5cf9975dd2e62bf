/**
 * The node's writes (the API's Commands port): each command takes this node's write fence, runs
 * through handleCommand (or its set-based form), and has its refusals mapped to the API's codes.
 */
import type { Commands } from '../../api/ports.js';
import type { EventStore } from '../store/event-store-port.js';
import { apiErrorOf } from './api-error.js';
import type { FenceAccess } from './fence-access.js';
import { uploadFile } from './file-commands.js';
import type { CommandContext } from './handle-command.js';
import { upsertListing, upsertListings } from './listing-commands.js';
import { createTask, deleteTask, updateTask } from './task-commands.js';

export class NodeCommands implements Commands {
  constructor(
    private readonly store: EventStore,
    private readonly leadership: FenceAccess,
  ) {}

  readonly createTask: Commands['createTask'] = (input, idempotencyKey) =>
    this.run((c) => createTask(c, input, idempotencyKey));

  readonly updateTask: Commands['updateTask'] = (id, patch, expectedVersion, idempotencyKey) =>
    this.run((c) => updateTask(c, id, patch, expectedVersion, idempotencyKey));

  readonly deleteTask: Commands['deleteTask'] = (id, expectedVersion, idempotencyKey) =>
    this.run((c) => deleteTask(c, id, expectedVersion, idempotencyKey));

  readonly upsertListing: Commands['upsertListing'] = (input, idempotencyKey) =>
    this.run((c) => upsertListing(c, input, idempotencyKey));

  readonly upsertListings: Commands['upsertListings'] = async (inputs, idempotencyKeys) =>
    inputs.length === 0 ? [] : this.run((c) => upsertListings(c, inputs, idempotencyKeys));

  readonly uploadFile: Commands['uploadFile'] = (file, idempotencyKey) =>
    this.run((c) => uploadFile(c, file, idempotencyKey));

  /** Under this node's write fence (NOT_LEADER without it), with refusals as the API's errors. */
  private async run<T>(command: (context: CommandContext) => Promise<T>): Promise<T> {
    try {
      return await this.leadership.withWriteFence((fence) => command({ store: this.store, fence }));
    } catch (error) {
      throw apiErrorOf(error, this.leadership);
    }
  }
}
