/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation BenchSeedTask { createTask(input: { title: \"bench\" }) { id } }": typeof types.BenchSeedTaskDocument,
    "query BenchTask($id: ID!) { task(id: $id) { id title status version } }": typeof types.BenchTaskDocument,
    "mutation BenchCreateTask($t: String!) { createTask(input: { title: $t }) { id version } }": typeof types.BenchCreateTaskDocument,
    "mutation ChaosCreateTask($title: String!, $key: String) {\n  createTask(input: { title: $title }, idempotencyKey: $key) { id version } }": typeof types.ChaosCreateTaskDocument,
    "mutation ChaosUpdateTask($id: ID!, $title: String!, $expected: Int) {\n  updateTask(id: $id, input: { title: $title }, expectedVersion: $expected) { id version } }": typeof types.ChaosUpdateTaskDocument,
    "query ChaosReadTask($id: ID!) { task(id: $id) { version } }": typeof types.ChaosReadTaskDocument,
    "query FailoverTestTasks($a: String) { tasks(first: 500, after: $a) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }": typeof types.FailoverTestTasksDocument,
    "mutation FailoverTestCreateTask($t: String!, $k: String) { createTask(input: { title: $t }, idempotencyKey: $k) { id title } }": typeof types.FailoverTestCreateTaskDocument,
    "subscription NodeClusterEvents($since: DateTime) { clusterEvents(since: $since) { nodeId term from to reason at } }": typeof types.NodeClusterEventsDocument,
    "subscription NodeEvents($stream: String, $afterPosition: Int) {\n  events(stream: $stream, afterPosition: $afterPosition) { ...EventFields } }": typeof types.NodeEventsDocument,
    "query FtpsTestFiles { files { name sha256 importedListings } }": typeof types.FtpsTestFilesDocument,
    "query FtpsTestEvents { events(afterPosition: 0, first: 100) { type data } }": typeof types.FtpsTestEventsDocument,
    "mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }": typeof types.GatewayTestCreateTaskDocument,
    "mutation GatewayTestTooEarly { createTask(input: { title: \"too early\" }) { id } }": typeof types.GatewayTestTooEarlyDocument,
    "query GatewayTestPreVoteReads { tasks(first: 1) { edges { cursor } } cluster { nodes { id role term } } }": typeof types.GatewayTestPreVoteReadsDocument,
    "mutation GatewayTestNoToken { createTask(input: { title: \"no token\" }) { id } }": typeof types.GatewayTestNoTokenDocument,
    "query GatewayTestTaskTitle($id: ID!) { task(id: $id) { title } }": typeof types.GatewayTestTaskTitleDocument,
    "mutation GatewayTestEmptyTitle { createTask(input: { title: \"\" }) { id } }": typeof types.GatewayTestEmptyTitleDocument,
    "mutation GatewayTestBatchNoToken { createTask(input: { title: \"none\" }) { id } }": typeof types.GatewayTestBatchNoTokenDocument,
    "query GatewayTestBatchedRead($id: ID!) { task(id: $id) { id title } }": typeof types.GatewayTestBatchedReadDocument,
    "query GatewayTestMixed { view: cluster { term self { id } leader { id role } nodes { id role } }\n        some: tasks(first: 2) { edges { n: node { t: title } } } }": typeof types.GatewayTestMixedDocument,
    "mutation GatewayTestUpload($f: Upload!) { uploadFile(file: $f) { name size importedListings } }": typeof types.GatewayTestUploadDocument,
    "mutation GatewayTestKeyedOnce { createTask(input: { title: \"keyed once\" }) { id } }": typeof types.GatewayTestKeyedOnceDocument,
    "mutation GatewayTestWhilePaused { createTask(input: { title: \"while paused\" }) { id createdBy } }": typeof types.GatewayTestWhilePausedDocument,
    "query GatewayTestPausedEvents { events(first: 500) { type data } }": typeof types.GatewayTestPausedEventsDocument,
    "subscription GatewayTestLeaderChanged { leaderChanged { term leader { id } } }": typeof types.GatewayTestLeaderChangedDocument,
    "subscription GatewayTestClusterEvents { clusterEvents { nodeId to term } }": typeof types.GatewayTestClusterEventsDocument,
    "query GatewayTestHead { headPosition }": typeof types.GatewayTestHeadDocument,
    "subscription GatewayTestEvents($after: Int) { events(afterPosition: $after) { position type } }": typeof types.GatewayTestEventsDocument,
    "query IngestTestEvents($a: Int) { events(afterPosition: $a, first: 500) { position type stream data } }": typeof types.IngestTestEventsDocument,
    "query IngestTestFiles { files { name importedListings } }": typeof types.IngestTestFilesDocument,
    "query PlaygroundTestFiles { files { name importedListings } }": typeof types.PlaygroundTestFilesDocument,
    "mutation CreateTask($input: CreateTaskInput!, $key: String) { createTask(input: $input, idempotencyKey: $key) { ...TaskFields } }": typeof types.CreateTaskDocument,
    "mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $v: Int) { updateTask(id: $id, input: $input, expectedVersion: $v) { ...TaskFields } }": typeof types.UpdateTaskDocument,
    "mutation DeleteTask($id: ID!, $v: Int) { deleteTask(id: $id, expectedVersion: $v) }": typeof types.DeleteTaskDocument,
    "mutation UpsertListing($input: ListingInput!, $key: String) { upsertListing(input: $input, idempotencyKey: $key) { ...ListingFields } }": typeof types.UpsertListingDocument,
    "mutation UpsertListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { ...ListingFields } }": typeof types.UpsertListingsDocument,
    "mutation StoreListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { id } }": typeof types.StoreListingsDocument,
    "mutation UploadFile($file: Upload!) { uploadFile(file: $file) { ...StoredFileFields } }": typeof types.UploadFileDocument,
    "mutation GatewayTransferLeadership($to: ID) { transferLeadership(to: $to) { term at leader { id url role term lastSeenAt } } }": typeof types.GatewayTransferLeadershipDocument,
    "fragment TaskFields on Task { id title description status createdBy version createdAt updatedAt }": typeof types.TaskFieldsFragmentDoc,
    "fragment ListingFields on Listing { id title url price currency priceEur scrapedAt version }": typeof types.ListingFieldsFragmentDoc,
    "fragment StoredFileFields on StoredFile { id name size sha256 importedListings createdAt }": typeof types.StoredFileFieldsFragmentDoc,
    "fragment EventFields on Event { position stream version type data term nodeId createdAt }": typeof types.EventFieldsFragmentDoc,
    "query Tasks($status: TaskStatus, $first: Int, $after: String) {\n        tasks(status: $status, first: $first, after: $after) { edges { cursor node { ...TaskFields } } pageInfo { hasNextPage } } }": typeof types.TasksDocument,
    "query Task($id: ID!) { task(id: $id) { ...TaskFields } }": typeof types.TaskDocument,
    "query Listings($first: Int, $after: String, $minPrice: Float, $maxPrice: Float) {\n        listings(first: $first, after: $after, minPrice: $minPrice, maxPrice: $maxPrice) {\n          edges { cursor node { ...ListingFields } } pageInfo { hasNextPage } } }": typeof types.ListingsDocument,
    "query Files { files { ...StoredFileFields } }": typeof types.FilesDocument,
    "query Events($afterPosition: Int, $first: Int, $stream: String) {\n        events(afterPosition: $afterPosition, first: $first, stream: $stream) { ...EventFields } }": typeof types.EventsDocument,
    "query HeadPosition { headPosition }": typeof types.HeadPositionDocument,
    "query DiscoverNodes { cluster { nodes { url } } }": typeof types.DiscoverNodesDocument,
    "subscription LeaderChanged { leaderChanged { term leader { id url role term lastSeenAt } at } }": typeof types.LeaderChangedDocument,
    "query CurrentLeader { cluster { term leader { id url role term lastSeenAt } } }": typeof types.CurrentLeaderDocument,
};
const documents: Documents = {
    "mutation BenchSeedTask { createTask(input: { title: \"bench\" }) { id } }": types.BenchSeedTaskDocument,
    "query BenchTask($id: ID!) { task(id: $id) { id title status version } }": types.BenchTaskDocument,
    "mutation BenchCreateTask($t: String!) { createTask(input: { title: $t }) { id version } }": types.BenchCreateTaskDocument,
    "mutation ChaosCreateTask($title: String!, $key: String) {\n  createTask(input: { title: $title }, idempotencyKey: $key) { id version } }": types.ChaosCreateTaskDocument,
    "mutation ChaosUpdateTask($id: ID!, $title: String!, $expected: Int) {\n  updateTask(id: $id, input: { title: $title }, expectedVersion: $expected) { id version } }": types.ChaosUpdateTaskDocument,
    "query ChaosReadTask($id: ID!) { task(id: $id) { version } }": types.ChaosReadTaskDocument,
    "query FailoverTestTasks($a: String) { tasks(first: 500, after: $a) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }": types.FailoverTestTasksDocument,
    "mutation FailoverTestCreateTask($t: String!, $k: String) { createTask(input: { title: $t }, idempotencyKey: $k) { id title } }": types.FailoverTestCreateTaskDocument,
    "subscription NodeClusterEvents($since: DateTime) { clusterEvents(since: $since) { nodeId term from to reason at } }": types.NodeClusterEventsDocument,
    "subscription NodeEvents($stream: String, $afterPosition: Int) {\n  events(stream: $stream, afterPosition: $afterPosition) { ...EventFields } }": types.NodeEventsDocument,
    "query FtpsTestFiles { files { name sha256 importedListings } }": types.FtpsTestFilesDocument,
    "query FtpsTestEvents { events(afterPosition: 0, first: 100) { type data } }": types.FtpsTestEventsDocument,
    "mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }": types.GatewayTestCreateTaskDocument,
    "mutation GatewayTestTooEarly { createTask(input: { title: \"too early\" }) { id } }": types.GatewayTestTooEarlyDocument,
    "query GatewayTestPreVoteReads { tasks(first: 1) { edges { cursor } } cluster { nodes { id role term } } }": types.GatewayTestPreVoteReadsDocument,
    "mutation GatewayTestNoToken { createTask(input: { title: \"no token\" }) { id } }": types.GatewayTestNoTokenDocument,
    "query GatewayTestTaskTitle($id: ID!) { task(id: $id) { title } }": types.GatewayTestTaskTitleDocument,
    "mutation GatewayTestEmptyTitle { createTask(input: { title: \"\" }) { id } }": types.GatewayTestEmptyTitleDocument,
    "mutation GatewayTestBatchNoToken { createTask(input: { title: \"none\" }) { id } }": types.GatewayTestBatchNoTokenDocument,
    "query GatewayTestBatchedRead($id: ID!) { task(id: $id) { id title } }": types.GatewayTestBatchedReadDocument,
    "query GatewayTestMixed { view: cluster { term self { id } leader { id role } nodes { id role } }\n        some: tasks(first: 2) { edges { n: node { t: title } } } }": types.GatewayTestMixedDocument,
    "mutation GatewayTestUpload($f: Upload!) { uploadFile(file: $f) { name size importedListings } }": types.GatewayTestUploadDocument,
    "mutation GatewayTestKeyedOnce { createTask(input: { title: \"keyed once\" }) { id } }": types.GatewayTestKeyedOnceDocument,
    "mutation GatewayTestWhilePaused { createTask(input: { title: \"while paused\" }) { id createdBy } }": types.GatewayTestWhilePausedDocument,
    "query GatewayTestPausedEvents { events(first: 500) { type data } }": types.GatewayTestPausedEventsDocument,
    "subscription GatewayTestLeaderChanged { leaderChanged { term leader { id } } }": types.GatewayTestLeaderChangedDocument,
    "subscription GatewayTestClusterEvents { clusterEvents { nodeId to term } }": types.GatewayTestClusterEventsDocument,
    "query GatewayTestHead { headPosition }": types.GatewayTestHeadDocument,
    "subscription GatewayTestEvents($after: Int) { events(afterPosition: $after) { position type } }": types.GatewayTestEventsDocument,
    "query IngestTestEvents($a: Int) { events(afterPosition: $a, first: 500) { position type stream data } }": types.IngestTestEventsDocument,
    "query IngestTestFiles { files { name importedListings } }": types.IngestTestFilesDocument,
    "query PlaygroundTestFiles { files { name importedListings } }": types.PlaygroundTestFilesDocument,
    "mutation CreateTask($input: CreateTaskInput!, $key: String) { createTask(input: $input, idempotencyKey: $key) { ...TaskFields } }": types.CreateTaskDocument,
    "mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $v: Int) { updateTask(id: $id, input: $input, expectedVersion: $v) { ...TaskFields } }": types.UpdateTaskDocument,
    "mutation DeleteTask($id: ID!, $v: Int) { deleteTask(id: $id, expectedVersion: $v) }": types.DeleteTaskDocument,
    "mutation UpsertListing($input: ListingInput!, $key: String) { upsertListing(input: $input, idempotencyKey: $key) { ...ListingFields } }": types.UpsertListingDocument,
    "mutation UpsertListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { ...ListingFields } }": types.UpsertListingsDocument,
    "mutation StoreListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { id } }": types.StoreListingsDocument,
    "mutation UploadFile($file: Upload!) { uploadFile(file: $file) { ...StoredFileFields } }": types.UploadFileDocument,
    "mutation GatewayTransferLeadership($to: ID) { transferLeadership(to: $to) { term at leader { id url role term lastSeenAt } } }": types.GatewayTransferLeadershipDocument,
    "fragment TaskFields on Task { id title description status createdBy version createdAt updatedAt }": types.TaskFieldsFragmentDoc,
    "fragment ListingFields on Listing { id title url price currency priceEur scrapedAt version }": types.ListingFieldsFragmentDoc,
    "fragment StoredFileFields on StoredFile { id name size sha256 importedListings createdAt }": types.StoredFileFieldsFragmentDoc,
    "fragment EventFields on Event { position stream version type data term nodeId createdAt }": types.EventFieldsFragmentDoc,
    "query Tasks($status: TaskStatus, $first: Int, $after: String) {\n        tasks(status: $status, first: $first, after: $after) { edges { cursor node { ...TaskFields } } pageInfo { hasNextPage } } }": types.TasksDocument,
    "query Task($id: ID!) { task(id: $id) { ...TaskFields } }": types.TaskDocument,
    "query Listings($first: Int, $after: String, $minPrice: Float, $maxPrice: Float) {\n        listings(first: $first, after: $after, minPrice: $minPrice, maxPrice: $maxPrice) {\n          edges { cursor node { ...ListingFields } } pageInfo { hasNextPage } } }": types.ListingsDocument,
    "query Files { files { ...StoredFileFields } }": types.FilesDocument,
    "query Events($afterPosition: Int, $first: Int, $stream: String) {\n        events(afterPosition: $afterPosition, first: $first, stream: $stream) { ...EventFields } }": types.EventsDocument,
    "query HeadPosition { headPosition }": types.HeadPositionDocument,
    "query DiscoverNodes { cluster { nodes { url } } }": types.DiscoverNodesDocument,
    "subscription LeaderChanged { leaderChanged { term leader { id url role term lastSeenAt } at } }": types.LeaderChangedDocument,
    "query CurrentLeader { cluster { term leader { id url role term lastSeenAt } } }": types.CurrentLeaderDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation BenchSeedTask { createTask(input: { title: \"bench\" }) { id } }"): typeof import('./graphql.js').BenchSeedTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query BenchTask($id: ID!) { task(id: $id) { id title status version } }"): typeof import('./graphql.js').BenchTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation BenchCreateTask($t: String!) { createTask(input: { title: $t }) { id version } }"): typeof import('./graphql.js').BenchCreateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ChaosCreateTask($title: String!, $key: String) {\n  createTask(input: { title: $title }, idempotencyKey: $key) { id version } }"): typeof import('./graphql.js').ChaosCreateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ChaosUpdateTask($id: ID!, $title: String!, $expected: Int) {\n  updateTask(id: $id, input: { title: $title }, expectedVersion: $expected) { id version } }"): typeof import('./graphql.js').ChaosUpdateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ChaosReadTask($id: ID!) { task(id: $id) { version } }"): typeof import('./graphql.js').ChaosReadTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query FailoverTestTasks($a: String) { tasks(first: 500, after: $a) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }"): typeof import('./graphql.js').FailoverTestTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation FailoverTestCreateTask($t: String!, $k: String) { createTask(input: { title: $t }, idempotencyKey: $k) { id title } }"): typeof import('./graphql.js').FailoverTestCreateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription NodeClusterEvents($since: DateTime) { clusterEvents(since: $since) { nodeId term from to reason at } }"): typeof import('./graphql.js').NodeClusterEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription NodeEvents($stream: String, $afterPosition: Int) {\n  events(stream: $stream, afterPosition: $afterPosition) { ...EventFields } }"): typeof import('./graphql.js').NodeEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query FtpsTestFiles { files { name sha256 importedListings } }"): typeof import('./graphql.js').FtpsTestFilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query FtpsTestEvents { events(afterPosition: 0, first: 100) { type data } }"): typeof import('./graphql.js').FtpsTestEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }"): typeof import('./graphql.js').GatewayTestCreateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestTooEarly { createTask(input: { title: \"too early\" }) { id } }"): typeof import('./graphql.js').GatewayTestTooEarlyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestPreVoteReads { tasks(first: 1) { edges { cursor } } cluster { nodes { id role term } } }"): typeof import('./graphql.js').GatewayTestPreVoteReadsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestNoToken { createTask(input: { title: \"no token\" }) { id } }"): typeof import('./graphql.js').GatewayTestNoTokenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestTaskTitle($id: ID!) { task(id: $id) { title } }"): typeof import('./graphql.js').GatewayTestTaskTitleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestEmptyTitle { createTask(input: { title: \"\" }) { id } }"): typeof import('./graphql.js').GatewayTestEmptyTitleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestBatchNoToken { createTask(input: { title: \"none\" }) { id } }"): typeof import('./graphql.js').GatewayTestBatchNoTokenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestBatchedRead($id: ID!) { task(id: $id) { id title } }"): typeof import('./graphql.js').GatewayTestBatchedReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestMixed { view: cluster { term self { id } leader { id role } nodes { id role } }\n        some: tasks(first: 2) { edges { n: node { t: title } } } }"): typeof import('./graphql.js').GatewayTestMixedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestUpload($f: Upload!) { uploadFile(file: $f) { name size importedListings } }"): typeof import('./graphql.js').GatewayTestUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestKeyedOnce { createTask(input: { title: \"keyed once\" }) { id } }"): typeof import('./graphql.js').GatewayTestKeyedOnceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTestWhilePaused { createTask(input: { title: \"while paused\" }) { id createdBy } }"): typeof import('./graphql.js').GatewayTestWhilePausedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestPausedEvents { events(first: 500) { type data } }"): typeof import('./graphql.js').GatewayTestPausedEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription GatewayTestLeaderChanged { leaderChanged { term leader { id } } }"): typeof import('./graphql.js').GatewayTestLeaderChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription GatewayTestClusterEvents { clusterEvents { nodeId to term } }"): typeof import('./graphql.js').GatewayTestClusterEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query GatewayTestHead { headPosition }"): typeof import('./graphql.js').GatewayTestHeadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription GatewayTestEvents($after: Int) { events(afterPosition: $after) { position type } }"): typeof import('./graphql.js').GatewayTestEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query IngestTestEvents($a: Int) { events(afterPosition: $a, first: 500) { position type stream data } }"): typeof import('./graphql.js').IngestTestEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query IngestTestFiles { files { name importedListings } }"): typeof import('./graphql.js').IngestTestFilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PlaygroundTestFiles { files { name importedListings } }"): typeof import('./graphql.js').PlaygroundTestFilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateTask($input: CreateTaskInput!, $key: String) { createTask(input: $input, idempotencyKey: $key) { ...TaskFields } }"): typeof import('./graphql.js').CreateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $v: Int) { updateTask(id: $id, input: $input, expectedVersion: $v) { ...TaskFields } }"): typeof import('./graphql.js').UpdateTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteTask($id: ID!, $v: Int) { deleteTask(id: $id, expectedVersion: $v) }"): typeof import('./graphql.js').DeleteTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpsertListing($input: ListingInput!, $key: String) { upsertListing(input: $input, idempotencyKey: $key) { ...ListingFields } }"): typeof import('./graphql.js').UpsertListingDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpsertListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { ...ListingFields } }"): typeof import('./graphql.js').UpsertListingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation StoreListings($inputs: [ListingInput!]!, $keys: [String!]) { upsertListings(inputs: $inputs, idempotencyKeys: $keys) { id } }"): typeof import('./graphql.js').StoreListingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UploadFile($file: Upload!) { uploadFile(file: $file) { ...StoredFileFields } }"): typeof import('./graphql.js').UploadFileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation GatewayTransferLeadership($to: ID) { transferLeadership(to: $to) { term at leader { id url role term lastSeenAt } } }"): typeof import('./graphql.js').GatewayTransferLeadershipDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment TaskFields on Task { id title description status createdBy version createdAt updatedAt }"): typeof import('./graphql.js').TaskFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ListingFields on Listing { id title url price currency priceEur scrapedAt version }"): typeof import('./graphql.js').ListingFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment StoredFileFields on StoredFile { id name size sha256 importedListings createdAt }"): typeof import('./graphql.js').StoredFileFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment EventFields on Event { position stream version type data term nodeId createdAt }"): typeof import('./graphql.js').EventFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Tasks($status: TaskStatus, $first: Int, $after: String) {\n        tasks(status: $status, first: $first, after: $after) { edges { cursor node { ...TaskFields } } pageInfo { hasNextPage } } }"): typeof import('./graphql.js').TasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Task($id: ID!) { task(id: $id) { ...TaskFields } }"): typeof import('./graphql.js').TaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Listings($first: Int, $after: String, $minPrice: Float, $maxPrice: Float) {\n        listings(first: $first, after: $after, minPrice: $minPrice, maxPrice: $maxPrice) {\n          edges { cursor node { ...ListingFields } } pageInfo { hasNextPage } } }"): typeof import('./graphql.js').ListingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Files { files { ...StoredFileFields } }"): typeof import('./graphql.js').FilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Events($afterPosition: Int, $first: Int, $stream: String) {\n        events(afterPosition: $afterPosition, first: $first, stream: $stream) { ...EventFields } }"): typeof import('./graphql.js').EventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query HeadPosition { headPosition }"): typeof import('./graphql.js').HeadPositionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DiscoverNodes { cluster { nodes { url } } }"): typeof import('./graphql.js').DiscoverNodesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription LeaderChanged { leaderChanged { term leader { id url role term lastSeenAt } at } }"): typeof import('./graphql.js').LeaderChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CurrentLeader { cluster { term leader { id url role term lastSeenAt } } }"): typeof import('./graphql.js').CurrentLeaderDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
