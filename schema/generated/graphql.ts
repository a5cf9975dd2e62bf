/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type CreateTaskInput = {
  description?: string | null | undefined;
  status?: TaskStatus | null | undefined;
  title: string;
};

export type ListingInput = {
  currency: string;
  price: number;
  priceEur: number;
  scrapedAt: string;
  title: string;
  url: string;
};

/** A node’s role in the Raft election. */
export type Role =
  | 'CANDIDATE'
  | 'FOLLOWER'
  | 'LEADER';

export type TaskStatus =
  | 'DONE'
  | 'IN_PROGRESS'
  | 'TODO';

/** Only the fields given change; `description: null` clears it. */
export type UpdateTaskInput = {
  description?: string | null | undefined;
  status?: TaskStatus | null | undefined;
  title?: string | null | undefined;
};

export type BenchSeedTaskMutationVariables = Exact<{ [key: string]: never; }>;


export type BenchSeedTaskMutation = { createTask: { id: string } };

export type BenchTaskQueryVariables = Exact<{
  id: string | number;
}>;


export type BenchTaskQuery = { task: { id: string, title: string, status: TaskStatus, version: number } | null };

export type BenchCreateTaskMutationVariables = Exact<{
  t: string;
}>;


export type BenchCreateTaskMutation = { createTask: { id: string, version: number } };

export type ChaosCreateTaskMutationVariables = Exact<{
  title: string;
  key?: string | null | undefined;
}>;


export type ChaosCreateTaskMutation = { createTask: { id: string, version: number } };

export type ChaosUpdateTaskMutationVariables = Exact<{
  id: string | number;
  title: string;
  expected?: number | null | undefined;
}>;


export type ChaosUpdateTaskMutation = { updateTask: { id: string, version: number } };

export type ChaosReadTaskQueryVariables = Exact<{
  id: string | number;
}>;


export type ChaosReadTaskQuery = { task: { version: number } | null };

export type FailoverTestTasksQueryVariables = Exact<{
  a?: string | null | undefined;
}>;


export type FailoverTestTasksQuery = { tasks: { edges: Array<{ node: { id: string, title: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type FailoverTestCreateTaskMutationVariables = Exact<{
  t: string;
  k?: string | null | undefined;
}>;


export type FailoverTestCreateTaskMutation = { createTask: { id: string, title: string } };

export type NodeClusterEventsSubscriptionVariables = Exact<{
  since?: string | null | undefined;
}>;


export type NodeClusterEventsSubscription = { clusterEvents: { nodeId: string, term: number, from: Role, to: Role, reason: string, at: string } };

export type NodeEventsSubscriptionVariables = Exact<{
  stream?: string | null | undefined;
  afterPosition?: number | null | undefined;
}>;


export type NodeEventsSubscription = { events: { position: number, stream: string, version: number, type: string, data: unknown, term: number, nodeId: string, createdAt: string } };

export type FtpsTestFilesQueryVariables = Exact<{ [key: string]: never; }>;


export type FtpsTestFilesQuery = { files: Array<{ name: string, sha256: string, importedListings: number }> };

export type FtpsTestEventsQueryVariables = Exact<{ [key: string]: never; }>;


export type FtpsTestEventsQuery = { events: Array<{ type: string, data: unknown }> };

export type GatewayTestCreateTaskMutationVariables = Exact<{
  t: string;
}>;


export type GatewayTestCreateTaskMutation = { createTask: { id: string, title: string, version: number } };

export type GatewayTestTooEarlyMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestTooEarlyMutation = { createTask: { id: string } };

export type GatewayTestPreVoteReadsQueryVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestPreVoteReadsQuery = { tasks: { edges: Array<{ cursor: string }> }, cluster: { nodes: Array<{ id: string, role: Role, term: number }> } };

export type GatewayTestNoTokenMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestNoTokenMutation = { createTask: { id: string } };

export type GatewayTestTaskTitleQueryVariables = Exact<{
  id: string | number;
}>;


export type GatewayTestTaskTitleQuery = { task: { title: string } | null };

export type GatewayTestEmptyTitleMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestEmptyTitleMutation = { createTask: { id: string } };

export type GatewayTestBatchNoTokenMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestBatchNoTokenMutation = { createTask: { id: string } };

export type GatewayTestBatchedReadQueryVariables = Exact<{
  id: string | number;
}>;


export type GatewayTestBatchedReadQuery = { task: { id: string, title: string } | null };

export type GatewayTestMixedQueryVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestMixedQuery = { view: { term: number, self: { id: string } | null, leader: { id: string, role: Role } | null, nodes: Array<{ id: string, role: Role }> }, some: { edges: Array<{ n: { t: string } }> } };

export type GatewayTestUploadMutationVariables = Exact<{
  f: unknown;
}>;


export type GatewayTestUploadMutation = { uploadFile: { name: string, size: number, importedListings: number } };

export type GatewayTestKeyedOnceMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestKeyedOnceMutation = { createTask: { id: string } };

export type GatewayTestWhilePausedMutationVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestWhilePausedMutation = { createTask: { id: string, createdBy: string } };

export type GatewayTestPausedEventsQueryVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestPausedEventsQuery = { events: Array<{ type: string, data: unknown }> };

export type GatewayTestLeaderChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestLeaderChangedSubscription = { leaderChanged: { term: number, leader: { id: string } } };

export type GatewayTestClusterEventsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestClusterEventsSubscription = { clusterEvents: { nodeId: string, to: Role, term: number } };

export type GatewayTestHeadQueryVariables = Exact<{ [key: string]: never; }>;


export type GatewayTestHeadQuery = { headPosition: number };

export type GatewayTestEventsSubscriptionVariables = Exact<{
  after?: number | null | undefined;
}>;


export type GatewayTestEventsSubscription = { events: { position: number, type: string } };

export type IngestTestEventsQueryVariables = Exact<{
  a?: number | null | undefined;
}>;


export type IngestTestEventsQuery = { events: Array<{ position: number, type: string, stream: string, data: unknown }> };

export type IngestTestFilesQueryVariables = Exact<{ [key: string]: never; }>;


export type IngestTestFilesQuery = { files: Array<{ name: string, importedListings: number }> };

export type PlaygroundTestFilesQueryVariables = Exact<{ [key: string]: never; }>;


export type PlaygroundTestFilesQuery = { files: Array<{ name: string, importedListings: number }> };

export type CreateTaskMutationVariables = Exact<{
  input: CreateTaskInput;
  key?: string | null | undefined;
}>;


export type CreateTaskMutation = { createTask: { id: string, title: string, description: string | null, status: TaskStatus, createdBy: string, version: number, createdAt: string, updatedAt: string } };

export type UpdateTaskMutationVariables = Exact<{
  id: string | number;
  input: UpdateTaskInput;
  v?: number | null | undefined;
}>;


export type UpdateTaskMutation = { updateTask: { id: string, title: string, description: string | null, status: TaskStatus, createdBy: string, version: number, createdAt: string, updatedAt: string } };

export type DeleteTaskMutationVariables = Exact<{
  id: string | number;
  v?: number | null | undefined;
}>;


export type DeleteTaskMutation = { deleteTask: boolean };

export type UpsertListingMutationVariables = Exact<{
  input: ListingInput;
  key?: string | null | undefined;
}>;


export type UpsertListingMutation = { upsertListing: { id: string, title: string, url: string, price: number, currency: string, priceEur: number, scrapedAt: string, version: number } };

export type UpsertListingsMutationVariables = Exact<{
  inputs: Array<ListingInput> | ListingInput;
  keys?: Array<string> | string | null | undefined;
}>;


export type UpsertListingsMutation = { upsertListings: Array<{ id: string, title: string, url: string, price: number, currency: string, priceEur: number, scrapedAt: string, version: number }> };

export type StoreListingsMutationVariables = Exact<{
  inputs: Array<ListingInput> | ListingInput;
  keys?: Array<string> | string | null | undefined;
}>;


export type StoreListingsMutation = { upsertListings: Array<{ id: string }> };

export type UploadFileMutationVariables = Exact<{
  file: unknown;
}>;


export type UploadFileMutation = { uploadFile: { id: string, name: string, size: number, sha256: string, importedListings: number, createdAt: string } };

export type GatewayTransferLeadershipMutationVariables = Exact<{
  to?: string | number | null | undefined;
}>;


export type GatewayTransferLeadershipMutation = { transferLeadership: { term: number, at: string, leader: { id: string, url: string, role: Role, term: number, lastSeenAt: string | null } } };

export type TaskFieldsFragment = { id: string, title: string, description: string | null, status: TaskStatus, createdBy: string, version: number, createdAt: string, updatedAt: string };

export type ListingFieldsFragment = { id: string, title: string, url: string, price: number, currency: string, priceEur: number, scrapedAt: string, version: number };

export type StoredFileFieldsFragment = { id: string, name: string, size: number, sha256: string, importedListings: number, createdAt: string };

export type EventFieldsFragment = { position: number, stream: string, version: number, type: string, data: unknown, term: number, nodeId: string, createdAt: string };

export type TasksQueryVariables = Exact<{
  status?: TaskStatus | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type TasksQuery = { tasks: { edges: Array<{ cursor: string, node: { id: string, title: string, description: string | null, status: TaskStatus, createdBy: string, version: number, createdAt: string, updatedAt: string } }>, pageInfo: { hasNextPage: boolean } } };

export type TaskQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskQuery = { task: { id: string, title: string, description: string | null, status: TaskStatus, createdBy: string, version: number, createdAt: string, updatedAt: string } | null };

export type ListingsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  minPrice?: number | null | undefined;
  maxPrice?: number | null | undefined;
}>;


export type ListingsQuery = { listings: { edges: Array<{ cursor: string, node: { id: string, title: string, url: string, price: number, currency: string, priceEur: number, scrapedAt: string, version: number } }>, pageInfo: { hasNextPage: boolean } } };

export type FilesQueryVariables = Exact<{ [key: string]: never; }>;


export type FilesQuery = { files: Array<{ id: string, name: string, size: number, sha256: string, importedListings: number, createdAt: string }> };

export type EventsQueryVariables = Exact<{
  afterPosition?: number | null | undefined;
  first?: number | null | undefined;
  stream?: string | null | undefined;
}>;


export type EventsQuery = { events: Array<{ position: number, stream: string, version: number, type: string, data: unknown, term: number, nodeId: string, createdAt: string }> };

export type HeadPositionQueryVariables = Exact<{ [key: string]: never; }>;


export type HeadPositionQuery = { headPosition: number };

export type DiscoverNodesQueryVariables = Exact<{ [key: string]: never; }>;


export type DiscoverNodesQuery = { cluster: { nodes: Array<{ url: string }> } };

export type LeaderChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type LeaderChangedSubscription = { leaderChanged: { term: number, at: string, leader: { id: string, url: string, role: Role, term: number, lastSeenAt: string | null } } };

export type CurrentLeaderQueryVariables = Exact<{ [key: string]: never; }>;


export type CurrentLeaderQuery = { cluster: { term: number, leader: { id: string, url: string, role: Role, term: number, lastSeenAt: string | null } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const TaskFieldsFragmentDoc = new TypedDocumentString(`
    fragment TaskFields on Task {
  id
  title
  description
  status
  createdBy
  version
  createdAt
  updatedAt
}
    `, {"fragmentName":"TaskFields"}) as unknown as TypedDocumentString<TaskFieldsFragment, unknown>;
export const ListingFieldsFragmentDoc = new TypedDocumentString(`
    fragment ListingFields on Listing {
  id
  title
  url
  price
  currency
  priceEur
  scrapedAt
  version
}
    `, {"fragmentName":"ListingFields"}) as unknown as TypedDocumentString<ListingFieldsFragment, unknown>;
export const StoredFileFieldsFragmentDoc = new TypedDocumentString(`
    fragment StoredFileFields on StoredFile {
  id
  name
  size
  sha256
  importedListings
  createdAt
}
    `, {"fragmentName":"StoredFileFields"}) as unknown as TypedDocumentString<StoredFileFieldsFragment, unknown>;
export const EventFieldsFragmentDoc = new TypedDocumentString(`
    fragment EventFields on Event {
  position
  stream
  version
  type
  data
  term
  nodeId
  createdAt
}
    `, {"fragmentName":"EventFields"}) as unknown as TypedDocumentString<EventFieldsFragment, unknown>;
export const BenchSeedTaskDocument = new TypedDocumentString(`
    mutation BenchSeedTask {
  createTask(input: {title: "bench"}) {
    id
  }
}
    `) as unknown as TypedDocumentString<BenchSeedTaskMutation, BenchSeedTaskMutationVariables>;
export const BenchTaskDocument = new TypedDocumentString(`
    query BenchTask($id: ID!) {
  task(id: $id) {
    id
    title
    status
    version
  }
}
    `) as unknown as TypedDocumentString<BenchTaskQuery, BenchTaskQueryVariables>;
export const BenchCreateTaskDocument = new TypedDocumentString(`
    mutation BenchCreateTask($t: String!) {
  createTask(input: {title: $t}) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<BenchCreateTaskMutation, BenchCreateTaskMutationVariables>;
export const ChaosCreateTaskDocument = new TypedDocumentString(`
    mutation ChaosCreateTask($title: String!, $key: String) {
  createTask(input: {title: $title}, idempotencyKey: $key) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<ChaosCreateTaskMutation, ChaosCreateTaskMutationVariables>;
export const ChaosUpdateTaskDocument = new TypedDocumentString(`
    mutation ChaosUpdateTask($id: ID!, $title: String!, $expected: Int) {
  updateTask(id: $id, input: {title: $title}, expectedVersion: $expected) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<ChaosUpdateTaskMutation, ChaosUpdateTaskMutationVariables>;
export const ChaosReadTaskDocument = new TypedDocumentString(`
    query ChaosReadTask($id: ID!) {
  task(id: $id) {
    version
  }
}
    `) as unknown as TypedDocumentString<ChaosReadTaskQuery, ChaosReadTaskQueryVariables>;
export const FailoverTestTasksDocument = new TypedDocumentString(`
    query FailoverTestTasks($a: String) {
  tasks(first: 500, after: $a) {
    edges {
      node {
        id
        title
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<FailoverTestTasksQuery, FailoverTestTasksQueryVariables>;
export const FailoverTestCreateTaskDocument = new TypedDocumentString(`
    mutation FailoverTestCreateTask($t: String!, $k: String) {
  createTask(input: {title: $t}, idempotencyKey: $k) {
    id
    title
  }
}
    `) as unknown as TypedDocumentString<FailoverTestCreateTaskMutation, FailoverTestCreateTaskMutationVariables>;
export const NodeClusterEventsDocument = new TypedDocumentString(`
    subscription NodeClusterEvents($since: DateTime) {
  clusterEvents(since: $since) {
    nodeId
    term
    from
    to
    reason
    at
  }
}
    `) as unknown as TypedDocumentString<NodeClusterEventsSubscription, NodeClusterEventsSubscriptionVariables>;
export const NodeEventsDocument = new TypedDocumentString(`
    subscription NodeEvents($stream: String, $afterPosition: Int) {
  events(stream: $stream, afterPosition: $afterPosition) {
    ...EventFields
  }
}
    fragment EventFields on Event {
  position
  stream
  version
  type
  data
  term
  nodeId
  createdAt
}`) as unknown as TypedDocumentString<NodeEventsSubscription, NodeEventsSubscriptionVariables>;
export const FtpsTestFilesDocument = new TypedDocumentString(`
    query FtpsTestFiles {
  files {
    name
    sha256
    importedListings
  }
}
    `) as unknown as TypedDocumentString<FtpsTestFilesQuery, FtpsTestFilesQueryVariables>;
export const FtpsTestEventsDocument = new TypedDocumentString(`
    query FtpsTestEvents {
  events(afterPosition: 0, first: 100) {
    type
    data
  }
}
    `) as unknown as TypedDocumentString<FtpsTestEventsQuery, FtpsTestEventsQueryVariables>;
export const GatewayTestCreateTaskDocument = new TypedDocumentString(`
    mutation GatewayTestCreateTask($t: String!) {
  createTask(input: {title: $t}) {
    id
    title
    version
  }
}
    `) as unknown as TypedDocumentString<GatewayTestCreateTaskMutation, GatewayTestCreateTaskMutationVariables>;
export const GatewayTestTooEarlyDocument = new TypedDocumentString(`
    mutation GatewayTestTooEarly {
  createTask(input: {title: "too early"}) {
    id
  }
}
    `) as unknown as TypedDocumentString<GatewayTestTooEarlyMutation, GatewayTestTooEarlyMutationVariables>;
export const GatewayTestPreVoteReadsDocument = new TypedDocumentString(`
    query GatewayTestPreVoteReads {
  tasks(first: 1) {
    edges {
      cursor
    }
  }
  cluster {
    nodes {
      id
      role
      term
    }
  }
}
    `) as unknown as TypedDocumentString<GatewayTestPreVoteReadsQuery, GatewayTestPreVoteReadsQueryVariables>;
export const GatewayTestNoTokenDocument = new TypedDocumentString(`
    mutation GatewayTestNoToken {
  createTask(input: {title: "no token"}) {
    id
  }
}
    `) as unknown as TypedDocumentString<GatewayTestNoTokenMutation, GatewayTestNoTokenMutationVariables>;
export const GatewayTestTaskTitleDocument = new TypedDocumentString(`
    query GatewayTestTaskTitle($id: ID!) {
  task(id: $id) {
    title
  }
}
    `) as unknown as TypedDocumentString<GatewayTestTaskTitleQuery, GatewayTestTaskTitleQueryVariables>;
export const GatewayTestEmptyTitleDocument = new TypedDocumentString(`
    mutation GatewayTestEmptyTitle {
  createTask(input: {title: ""}) {
    id
  }
}
    `) as unknown as TypedDocumentString<GatewayTestEmptyTitleMutation, GatewayTestEmptyTitleMutationVariables>;
export const GatewayTestBatchNoTokenDocument = new TypedDocumentString(`
    mutation GatewayTestBatchNoToken {
  createTask(input: {title: "none"}) {
    id
  }
}
    `) as unknown as TypedDocumentString<GatewayTestBatchNoTokenMutation, GatewayTestBatchNoTokenMutationVariables>;
export const GatewayTestBatchedReadDocument = new TypedDocumentString(`
    query GatewayTestBatchedRead($id: ID!) {
  task(id: $id) {
    id
    title
  }
}
    `) as unknown as TypedDocumentString<GatewayTestBatchedReadQuery, GatewayTestBatchedReadQueryVariables>;
export const GatewayTestMixedDocument = new TypedDocumentString(`
    query GatewayTestMixed {
  view: cluster {
    term
    self {
      id
    }
    leader {
      id
      role
    }
    nodes {
      id
      role
    }
  }
  some: tasks(first: 2) {
    edges {
      n: node {
        t: title
      }
    }
  }
}
    `) as unknown as TypedDocumentString<GatewayTestMixedQuery, GatewayTestMixedQueryVariables>;
export const GatewayTestUploadDocument = new TypedDocumentString(`
    mutation GatewayTestUpload($f: Upload!) {
  uploadFile(file: $f) {
    name
    size
    importedListings
  }
}
    `) as unknown as TypedDocumentString<GatewayTestUploadMutation, GatewayTestUploadMutationVariables>;
export const GatewayTestKeyedOnceDocument = new TypedDocumentString(`
    mutation GatewayTestKeyedOnce {
  createTask(input: {title: "keyed once"}) {
    id
  }
}
    `) as unknown as TypedDocumentString<GatewayTestKeyedOnceMutation, GatewayTestKeyedOnceMutationVariables>;
export const GatewayTestWhilePausedDocument = new TypedDocumentString(`
    mutation GatewayTestWhilePaused {
  createTask(input: {title: "while paused"}) {
    id
    createdBy
  }
}
    `) as unknown as TypedDocumentString<GatewayTestWhilePausedMutation, GatewayTestWhilePausedMutationVariables>;
export const GatewayTestPausedEventsDocument = new TypedDocumentString(`
    query GatewayTestPausedEvents {
  events(first: 500) {
    type
    data
  }
}
    `) as unknown as TypedDocumentString<GatewayTestPausedEventsQuery, GatewayTestPausedEventsQueryVariables>;
export const GatewayTestLeaderChangedDocument = new TypedDocumentString(`
    subscription GatewayTestLeaderChanged {
  leaderChanged {
    term
    leader {
      id
    }
  }
}
    `) as unknown as TypedDocumentString<GatewayTestLeaderChangedSubscription, GatewayTestLeaderChangedSubscriptionVariables>;
export const GatewayTestClusterEventsDocument = new TypedDocumentString(`
    subscription GatewayTestClusterEvents {
  clusterEvents {
    nodeId
    to
    term
  }
}
    `) as unknown as TypedDocumentString<GatewayTestClusterEventsSubscription, GatewayTestClusterEventsSubscriptionVariables>;
export const GatewayTestHeadDocument = new TypedDocumentString(`
    query GatewayTestHead {
  headPosition
}
    `) as unknown as TypedDocumentString<GatewayTestHeadQuery, GatewayTestHeadQueryVariables>;
export const GatewayTestEventsDocument = new TypedDocumentString(`
    subscription GatewayTestEvents($after: Int) {
  events(afterPosition: $after) {
    position
    type
  }
}
    `) as unknown as TypedDocumentString<GatewayTestEventsSubscription, GatewayTestEventsSubscriptionVariables>;
export const IngestTestEventsDocument = new TypedDocumentString(`
    query IngestTestEvents($a: Int) {
  events(afterPosition: $a, first: 500) {
    position
    type
    stream
    data
  }
}
    `) as unknown as TypedDocumentString<IngestTestEventsQuery, IngestTestEventsQueryVariables>;
export const IngestTestFilesDocument = new TypedDocumentString(`
    query IngestTestFiles {
  files {
    name
    importedListings
  }
}
    `) as unknown as TypedDocumentString<IngestTestFilesQuery, IngestTestFilesQueryVariables>;
export const PlaygroundTestFilesDocument = new TypedDocumentString(`
    query PlaygroundTestFiles {
  files {
    name
    importedListings
  }
}
    `) as unknown as TypedDocumentString<PlaygroundTestFilesQuery, PlaygroundTestFilesQueryVariables>;
export const CreateTaskDocument = new TypedDocumentString(`
    mutation CreateTask($input: CreateTaskInput!, $key: String) {
  createTask(input: $input, idempotencyKey: $key) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  title
  description
  status
  createdBy
  version
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<CreateTaskMutation, CreateTaskMutationVariables>;
export const UpdateTaskDocument = new TypedDocumentString(`
    mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $v: Int) {
  updateTask(id: $id, input: $input, expectedVersion: $v) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  title
  description
  status
  createdBy
  version
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<UpdateTaskMutation, UpdateTaskMutationVariables>;
export const DeleteTaskDocument = new TypedDocumentString(`
    mutation DeleteTask($id: ID!, $v: Int) {
  deleteTask(id: $id, expectedVersion: $v)
}
    `) as unknown as TypedDocumentString<DeleteTaskMutation, DeleteTaskMutationVariables>;
export const UpsertListingDocument = new TypedDocumentString(`
    mutation UpsertListing($input: ListingInput!, $key: String) {
  upsertListing(input: $input, idempotencyKey: $key) {
    ...ListingFields
  }
}
    fragment ListingFields on Listing {
  id
  title
  url
  price
  currency
  priceEur
  scrapedAt
  version
}`) as unknown as TypedDocumentString<UpsertListingMutation, UpsertListingMutationVariables>;
export const UpsertListingsDocument = new TypedDocumentString(`
    mutation UpsertListings($inputs: [ListingInput!]!, $keys: [String!]) {
  upsertListings(inputs: $inputs, idempotencyKeys: $keys) {
    ...ListingFields
  }
}
    fragment ListingFields on Listing {
  id
  title
  url
  price
  currency
  priceEur
  scrapedAt
  version
}`) as unknown as TypedDocumentString<UpsertListingsMutation, UpsertListingsMutationVariables>;
export const StoreListingsDocument = new TypedDocumentString(`
    mutation StoreListings($inputs: [ListingInput!]!, $keys: [String!]) {
  upsertListings(inputs: $inputs, idempotencyKeys: $keys) {
    id
  }
}
    `) as unknown as TypedDocumentString<StoreListingsMutation, StoreListingsMutationVariables>;
export const UploadFileDocument = new TypedDocumentString(`
    mutation UploadFile($file: Upload!) {
  uploadFile(file: $file) {
    ...StoredFileFields
  }
}
    fragment StoredFileFields on StoredFile {
  id
  name
  size
  sha256
  importedListings
  createdAt
}`) as unknown as TypedDocumentString<UploadFileMutation, UploadFileMutationVariables>;
export const GatewayTransferLeadershipDocument = new TypedDocumentString(`
    mutation GatewayTransferLeadership($to: ID) {
  transferLeadership(to: $to) {
    term
    at
    leader {
      id
      url
      role
      term
      lastSeenAt
    }
  }
}
    `) as unknown as TypedDocumentString<GatewayTransferLeadershipMutation, GatewayTransferLeadershipMutationVariables>;
export const TasksDocument = new TypedDocumentString(`
    query Tasks($status: TaskStatus, $first: Int, $after: String) {
  tasks(status: $status, first: $first, after: $after) {
    edges {
      cursor
      node {
        ...TaskFields
      }
    }
    pageInfo {
      hasNextPage
    }
  }
}
    fragment TaskFields on Task {
  id
  title
  description
  status
  createdBy
  version
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<TasksQuery, TasksQueryVariables>;
export const TaskDocument = new TypedDocumentString(`
    query Task($id: ID!) {
  task(id: $id) {
    ...TaskFields
  }
}
    fragment TaskFields on Task {
  id
  title
  description
  status
  createdBy
  version
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<TaskQuery, TaskQueryVariables>;
export const ListingsDocument = new TypedDocumentString(`
    query Listings($first: Int, $after: String, $minPrice: Float, $maxPrice: Float) {
  listings(first: $first, after: $after, minPrice: $minPrice, maxPrice: $maxPrice) {
    edges {
      cursor
      node {
        ...ListingFields
      }
    }
    pageInfo {
      hasNextPage
    }
  }
}
    fragment ListingFields on Listing {
  id
  title
  url
  price
  currency
  priceEur
  scrapedAt
  version
}`) as unknown as TypedDocumentString<ListingsQuery, ListingsQueryVariables>;
export const FilesDocument = new TypedDocumentString(`
    query Files {
  files {
    ...StoredFileFields
  }
}
    fragment StoredFileFields on StoredFile {
  id
  name
  size
  sha256
  importedListings
  createdAt
}`) as unknown as TypedDocumentString<FilesQuery, FilesQueryVariables>;
export const EventsDocument = new TypedDocumentString(`
    query Events($afterPosition: Int, $first: Int, $stream: String) {
  events(afterPosition: $afterPosition, first: $first, stream: $stream) {
    ...EventFields
  }
}
    fragment EventFields on Event {
  position
  stream
  version
  type
  data
  term
  nodeId
  createdAt
}`) as unknown as TypedDocumentString<EventsQuery, EventsQueryVariables>;
export const HeadPositionDocument = new TypedDocumentString(`
    query HeadPosition {
  headPosition
}
    `) as unknown as TypedDocumentString<HeadPositionQuery, HeadPositionQueryVariables>;
export const DiscoverNodesDocument = new TypedDocumentString(`
    query DiscoverNodes {
  cluster {
    nodes {
      url
    }
  }
}
    `) as unknown as TypedDocumentString<DiscoverNodesQuery, DiscoverNodesQueryVariables>;
export const LeaderChangedDocument = new TypedDocumentString(`
    subscription LeaderChanged {
  leaderChanged {
    term
    leader {
      id
      url
      role
      term
      lastSeenAt
    }
    at
  }
}
    `) as unknown as TypedDocumentString<LeaderChangedSubscription, LeaderChangedSubscriptionVariables>;
export const CurrentLeaderDocument = new TypedDocumentString(`
    query CurrentLeader {
  cluster {
    term
    leader {
      id
      url
      role
      term
      lastSeenAt
    }
  }
}
    `) as unknown as TypedDocumentString<CurrentLeaderQuery, CurrentLeaderQueryVariables>;