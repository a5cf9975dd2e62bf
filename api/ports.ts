/**
 * What the GraphQL layer needs from the rest of the node, as interfaces: the resolvers are
 * thin, and the event store, projections and election sit behind these ports.
 */
import type { TaskStatus } from '../schema/events.js';

export type Role = 'FOLLOWER' | 'CANDIDATE' | 'LEADER';

export interface NodeInfoDto {
  readonly id: string;
  readonly url: string;
  readonly role: Role;
  readonly term: number;
  readonly lastSeenAt: Date | null;
}

export interface ClusterDto {
  readonly term: number;
  readonly leader: NodeInfoDto | null;
  readonly nodes: readonly NodeInfoDto[];
  readonly self: NodeInfoDto | null;
}

export interface TaskDto {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly status: TaskStatus;
  readonly createdBy: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ListingDto {
  readonly id: string;
  readonly title: string;
  readonly url: string;
  readonly price: number;
  readonly currency: string;
  readonly priceEur: number;
  readonly scrapedAt: Date;
  readonly version: number;
}

export interface StoredFileDto {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly importedListings: number;
  readonly createdAt: Date;
}

export interface EventDto {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  readonly term: number;
  readonly nodeId: string;
  readonly createdAt: Date;
}

export interface LeaderChangeDto {
  readonly term: number;
  readonly leader: NodeInfoDto;
  readonly at: Date;
}

/** One election transition of one node (the `clusterEvents` feed). */
export interface ClusterEventDto {
  readonly nodeId: string;
  readonly term: number;
  readonly from: Role;
  readonly to: Role;
  readonly reason: string;
  readonly at: Date;
}

export interface Page<T> {
  readonly items: readonly { readonly cursor: string; readonly node: T }[];
  readonly hasNextPage: boolean;
}

export interface ReadModels {
  cluster(): Promise<ClusterDto>;
  tasks(args: { status?: TaskStatus; first: number; after?: string }): Promise<Page<TaskDto>>;
  task(id: string): Promise<TaskDto | null>;
  listings(args: {
    first: number;
    after?: string;
    minPrice?: number;
    maxPrice?: number;
  }): Promise<Page<ListingDto>>;
  files(): Promise<StoredFileDto[]>;
  events(args: { afterPosition?: number; first: number; stream?: string }): Promise<EventDto[]>;
  headPosition(): Promise<number>;
}

export interface TaskInput {
  readonly title: string;
  readonly description?: string | null;
  readonly status?: TaskStatus;
}

export interface TaskPatch {
  readonly title?: string;
  readonly description?: string | null;
  readonly status?: TaskStatus;
}

export interface ListingInputDto {
  readonly title: string;
  readonly url: string;
  readonly price: number;
  readonly currency: string;
  readonly priceEur: number;
  readonly scrapedAt: Date;
}

/** Inputs of one upsertListings at most (the queue consumer splits its batches to fit). */
export const MAX_LISTINGS_PER_REQUEST = 500;

/** Writes. Implementations throw ApiError (see errors.ts) for every refusal. */
export interface Commands {
  createTask(input: TaskInput, idempotencyKey?: string): Promise<TaskDto>;
  updateTask(
    id: string,
    patch: TaskPatch,
    expectedVersion?: number,
    idempotencyKey?: string,
  ): Promise<TaskDto>;
  deleteTask(id: string, expectedVersion?: number, idempotencyKey?: string): Promise<boolean>;
  upsertListing(input: ListingInputDto, idempotencyKey?: string): Promise<ListingDto>;
  /**
   * Many at once (at most MAX_LISTINGS_PER_REQUEST), each as upsertListing would (with its own
   * key, if given); answers in input order.
   */
  upsertListings(
    inputs: readonly ListingInputDto[],
    idempotencyKeys?: readonly (string | undefined)[],
  ): Promise<ListingDto[]>;
  uploadFile(file: { name: string; bytes: Buffer }, idempotencyKey?: string): Promise<StoredFileDto>;
}

/** Leadership, as a client may steer it (the `transferLeadership` mutation). */
export interface Leadership {
  /**
   * Hand leadership to `to`, or to a follower the leader picks. Resolves once the new leader holds
   * the write fence (on the gateway: and the gateway has its announcement). Refusals: NO_LEADER,
   * NOT_LEADER (a node that does not lead), BAD_USER_INPUT (an unknown or unhealthy target, or the
   * leader itself), CONFLICT (a transfer already runs), TRANSFER_TIMEOUT (no new leader in time).
   */
  transferLeadership(to?: string): Promise<LeaderChangeDto>;
}

/** Live feeds for subscriptions. Each returns an iterator that ends when the client leaves. */
export interface Feeds {
  leaderChanged(): AsyncIterableIterator<LeaderChangeDto>;
  /** Election transitions as they happen; with `since`, first those kept from that instant on. */
  clusterEvents(args?: { since?: Date }): AsyncIterableIterator<ClusterEventDto>;
  /** Domain events in position order, from now on (or after `afterPosition`), optionally one stream. */
  events(args: { stream?: string; afterPosition?: number }): AsyncIterableIterator<EventDto>;
}
