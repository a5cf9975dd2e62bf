/**
 * The HTTP/GraphQL layer over in-memory fakes of the ports: the real stores are tested
 * elsewhere; here it is the wire format, auth, errors, uploads and subscriptions.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  buildClientSchema,
  buildSchema,
  type GraphQLField,
  type GraphQLSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isObjectType,
  parse,
  validate,
} from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { PREVIEW_OPERATION, previewBody } from '../common/document-preview.js';
import {
  BATCH_CONTENT_TYPE,
  BATCH_PATH,
  type BatchedResponse,
  decodeResponses,
  encodeRequests,
  signBatch,
} from '../common/graphql-batch.js';
import { SIGNATURE_HEADER } from '../common/http-headers.js';
import { MAX_BATCH_BYTES } from '../common/limits.js';
import { LIVEZ_PATH, READYZ_PATH, readiness } from '../common/probes.js';
import { depthLimitRule } from './depth-limit.js';
import { ApiError } from './errors.js';
import { buildEnsembleSchema, type GraphqlServer, startGraphqlServer } from './graphql-server.js';
import type {
  ClusterDto,
  ClusterEventDto,
  Commands,
  EventDto,
  Feeds,
  LeaderChangeDto,
  Leadership,
  ListingDto,
  ListingInputDto,
  Page,
  ReadModels,
  StoredFileDto,
  TaskDto,
  TaskInput,
  TaskPatch,
} from './ports.js';

const TOKEN = 'test-token-0123456789';
const MAX_UPLOAD = 1024;
const T0 = new Date('2025-01-02T03:04:05.000Z');

// ---------------------------------------------------------------- fakes

/** A push feed whose iterators end when the consumer returns; waits are event-driven. */
class FakeFeed<T> {
  readonly subscribers = new Set<(value: T) => void>();
  readonly opened: unknown[] = [];
  private watchers: Array<() => void> = [];

  iterator(args?: unknown): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const sink = (value: T) => {
      queue.push(value);
      wake?.();
    };
    this.subscribers.add(sink);
    this.opened.push(args);
    this.notify();
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        const value = queue.shift();
        return value === undefined ? { value: undefined, done: true } : { value, done: false };
      },
      return: async () => {
        done = true;
        wake?.();
        this.subscribers.delete(sink);
        this.notify();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  push(value: T): void {
    for (const sink of this.subscribers) sink(value);
  }

  /** Resolves once `predicate` holds (checked now and on every subscribe/unsubscribe). */
  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        this.watchers = this.watchers.filter((w) => w !== check);
        resolve();
      };
      this.watchers.push(check);
    });
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

const node = (id: string, role: 'FOLLOWER' | 'CANDIDATE' | 'LEADER') => ({
  id,
  url: `http://127.0.0.1:400${id.slice(1)}`,
  role,
  term: 7,
  lastSeenAt: role === 'LEADER' ? null : T0,
});

const tasks: TaskDto[] = [1, 2, 3].map((i) => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  title: `task ${i}`,
  description: i === 1 ? null : `about ${i}`,
  status: i === 3 ? 'DONE' : 'TODO',
  createdBy: 'n1',
  version: i,
  createdAt: T0,
  updatedAt: T0,
}));

const listings: ListingDto[] = [10, 20, 30].map((p, i) => ({
  id: `listing-${i}`,
  title: `thing ${i}`,
  url: `http://shop/${i}`,
  price: p * 2,
  currency: 'PLN',
  priceEur: p,
  scrapedAt: T0,
  version: 1,
}));

const event = (position: number, stream = 'task-1'): EventDto => ({
  position,
  stream,
  version: position,
  type: 'TaskUpdated',
  data: { id: 'x', title: `v${position}`, nested: [1, { a: null }] },
  term: 7,
  nodeId: 'n1',
  createdAt: T0,
});

function paginate<T>(items: readonly T[], first: number, after?: string): Page<T> {
  const start = after === undefined ? 0 : Number(after.slice(2)) + 1;
  const slice = items.slice(start, start + first);
  return {
    items: slice.map((n, i) => ({ cursor: `c:${start + i}`, node: n })),
    hasNextPage: start + first < items.length,
  };
}

const calls: Record<string, unknown[]> = {};
const record = (name: string, args: unknown) => {
  calls[name] ??= [];
  calls[name].push(args);
};
let failNext: Error | null = null;
const maybeFail = () => {
  const error = failNext;
  failNext = null;
  if (error) throw error;
};

const cluster: ClusterDto = {
  term: 7,
  leader: node('n1', 'LEADER'),
  nodes: [node('n1', 'LEADER'), node('n2', 'FOLLOWER'), node('n3', 'CANDIDATE')],
  self: node('n2', 'FOLLOWER'),
};

const readModels: ReadModels = {
  async cluster() {
    maybeFail();
    return cluster;
  },
  async tasks(args) {
    record('tasks', args);
    maybeFail();
    const matching = args.status ? tasks.filter((t) => t.status === args.status) : tasks;
    return paginate(matching, args.first, args.after);
  },
  async task(id) {
    return tasks.find((t) => t.id === id) ?? null;
  },
  async listings(args) {
    record('listings', args);
    const matching = listings.filter(
      (l) => (args.minPrice ?? -Infinity) <= l.priceEur && l.priceEur <= (args.maxPrice ?? Infinity),
    );
    return paginate(matching, args.first, args.after);
  },
  async files() {
    return [storedFile('a.json', Buffer.from('[]'))];
  },
  async events(args) {
    record('events', args);
    return [event(1), event(2)];
  },
  async headPosition() {
    return 2;
  },
};

function storedFile(name: string, bytes: Buffer): StoredFileDto {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    id: `file-${sha256.slice(0, 8)}`,
    name,
    size: bytes.length,
    sha256,
    importedListings: 2,
    createdAt: T0,
  };
}

const commands: Commands = {
  async createTask(input: TaskInput, idempotencyKey?: string) {
    record('createTask', { input, idempotencyKey });
    maybeFail();
    return { ...(tasks[0] as TaskDto), title: input.title, description: input.description ?? null };
  },
  async updateTask(id: string, patch: TaskPatch, expectedVersion?: number, idempotencyKey?: string) {
    record('updateTask', { id, patch, expectedVersion, ...(idempotencyKey ? { idempotencyKey } : {}) });
    maybeFail();
    return { ...(tasks[1] as TaskDto), ...patch, version: 3 };
  },
  async deleteTask(id: string, expectedVersion?: number, idempotencyKey?: string) {
    record('deleteTask', { id, expectedVersion, ...(idempotencyKey ? { idempotencyKey } : {}) });
    maybeFail();
    return true;
  },
  async upsertListing(input: ListingInputDto, idempotencyKey?: string) {
    record('upsertListing', { input, idempotencyKey });
    maybeFail();
    return { id: 'listing-new', version: 1, ...input };
  },
  async upsertListings(
    inputs: readonly ListingInputDto[],
    idempotencyKeys?: readonly (string | undefined)[],
  ) {
    record('upsertListings', { inputs, idempotencyKeys });
    maybeFail();
    return inputs.map((input, i) => ({ id: `listing-${i}`, version: 1, ...input }));
  },
  async uploadFile(file: { name: string; bytes: Buffer }) {
    record('uploadFile', file);
    maybeFail();
    return storedFile(file.name, file.bytes);
  },
};

const feedLeader = new FakeFeed<LeaderChangeDto>();
const feedCluster = new FakeFeed<ClusterEventDto>();
const feedEvents = new FakeFeed<EventDto>();
const leadership: Leadership = {
  async transferLeadership(to?: string) {
    record('transferLeadership', { to });
    maybeFail();
    const leader = {
      id: to ?? 'n2',
      url: 'http://127.0.0.1:4002',
      role: 'LEADER' as const,
      term: 8,
      lastSeenAt: T0,
    };
    return { term: 8, leader, at: T0 };
  },
};

const feeds: Feeds = {
  leaderChanged: () => feedLeader.iterator(),
  clusterEvents: () => feedCluster.iterator(),
  events: (args) => feedEvents.iterator(args),
};

// ---------------------------------------------------------------- helpers

const logs: Array<{ msg: string; err?: { message?: string } }> = [];
const logger = pino({ level: 'error' }, { write: (line: string) => void logs.push(JSON.parse(line)) });

let server: GraphqlServer;
let gqlUrl: string;

interface GqlResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

async function gql(
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResponse> {
  const res = await fetch(gqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GqlResponse['body'] };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const codeOf = (r: GqlResponse) => r.body.errors?.[0]?.extensions?.code;

/** A GraphQL multipart request (graphql-multipart-request-spec), built by hand. */
function multipart(
  operations: unknown,
  map: Record<string, string[]>,
  files: Array<{ field: string; name: string; bytes: Buffer }>,
) {
  const boundary = `----ensemble${Date.now()}`;
  const parts: Buffer[] = [];
  const field = (name: string, value: string) =>
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  field('operations', JSON.stringify(operations));
  field('map', JSON.stringify(map));
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\n` +
          'Content-Type: application/json\r\n\r\n',
      ),
      f.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const UPLOAD =
  'mutation ($file: Upload!) { uploadFile(file: $file) { id name size sha256 importedListings createdAt } }';

async function upload(bytes: Buffer, headers: Record<string, string>, name = 'latest.json', url = gqlUrl) {
  const { body, contentType } = multipart(
    { query: UPLOAD, variables: { file: null } },
    { 0: ['variables.file'] },
    [{ field: '0', name, bytes }],
  );
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as GqlResponse['body'] };
}

// ---------------------------------------------------------------- tests

let readyState = readiness('n1', []);
const startTestServer = (maxUploadBytes = MAX_UPLOAD, batchSecret?: string) =>
  startGraphqlServer({
    ...(batchSecret === undefined ? {} : { batchSecret }),
    host: '127.0.0.1',
    port: 0,
    readModels,
    commands,
    feeds,
    leadership,
    apiToken: TOKEN,
    maxUploadBytes,
    logger,
    healthz: () => ({ status: 200, body: { id: 'n2', leader: 'n1' } }),
    readyz: () => readyState,
    extraRoutes: (app) => app.get('/extra', (_req, res) => void res.json({ extra: true })),
    knownErrors: (error) =>
      error instanceof KnownHostError
        ? ApiError.serviceUnavailable(`known to the host: ${error.message}`)
        : null,
  });

/** An error the host recognises as a refusal of its own (a node: the database primary lost). */
class KnownHostError extends Error {}

before(async () => {
  server = await startTestServer();
  gqlUrl = `${server.url}/graphql`;
});

after(async () => {
  await server.close();
});

describe('HTTP routes', () => {
  test('the url is the real bound address, not port 0', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(server.url).port, '0');
  });

  test('GET /healthz answers with the given status and JSON body', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 'n2', leader: 'n1' });
  });

  test('GET /livez answers 200; GET /readyz 200 when ready, 503 naming what is missing', async () => {
    const live = await fetch(`${server.url}${LIVEZ_PATH}`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'alive' });
    const ready = await fetch(`${server.url}${READYZ_PATH}`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, missing: [], leader: 'n1' });
    readyState = readiness(null, ['no leader known', false]);
    const notReady = await fetch(`${server.url}${READYZ_PATH}`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ready: false, missing: ['no leader known'], leader: null });
    readyState = readiness('n1', []);
  });

  test('extra routes are mounted; unknown paths get a JSON 404', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/extra`)).json(), { extra: true });
    const res = await fetch(`${server.url}/nope`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as GqlResponse['body']).errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  test('a malformed JSON body gets a JSON 400, in the media type the client accepts', async () => {
    for (const [accept, type] of [
      [undefined, 'application/json; charset=utf-8'],
      ['application/graphql-response+json', 'application/graphql-response+json; charset=utf-8'],
      ['application/json, application/graphql-response+json', 'application/json; charset=utf-8'],
      ['text/html', 'application/json; charset=utf-8'],
    ] as const) {
      const res = await fetch(gqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(accept === undefined ? {} : { accept }) },
        body: '{',
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), type, `accept: ${accept}`);
      assert.equal(((await res.json()) as GqlResponse['body']).errors?.[0]?.extensions?.code, 'BAD_REQUEST');
    }
  });
});

describe('queries', () => {
  test('cluster with every field; DateTime as ISO-8601', async () => {
    const r = await gql(
      '{ cluster { term leader { id url role term lastSeenAt } nodes { id url role term lastSeenAt } self { id role } } }',
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, {
      cluster: {
        term: 7,
        leader: { id: 'n1', url: 'http://127.0.0.1:4001', role: 'LEADER', term: 7, lastSeenAt: null },
        nodes: [
          { id: 'n1', url: 'http://127.0.0.1:4001', role: 'LEADER', term: 7, lastSeenAt: null },
          { id: 'n2', url: 'http://127.0.0.1:4002', role: 'FOLLOWER', term: 7, lastSeenAt: T0.toISOString() },
          {
            id: 'n3',
            url: 'http://127.0.0.1:4003',
            role: 'CANDIDATE',
            term: 7,
            lastSeenAt: T0.toISOString(),
          },
        ],
        self: { id: 'n2', role: 'FOLLOWER' },
      },
    });
  });

  test('tasks: Relay connection, pages through with after/endCursor, default first=50', async () => {
    const q = `query ($first: Int, $after: String, $status: TaskStatus) {
      tasks(first: $first, after: $after, status: $status) {
        edges { cursor node { id title description status createdBy version createdAt updatedAt } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const page1 = await gql(q, { first: 2 });
    const c1 = page1.body.data?.tasks as {
      edges: Array<{ cursor: string; node: Record<string, unknown> }>;
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    assert.equal(c1.edges.length, 2);
    assert.deepEqual(c1.edges[0], {
      cursor: 'c:0',
      node: { ...tasks[0], createdAt: T0.toISOString(), updatedAt: T0.toISOString() },
    });
    assert.deepEqual(c1.pageInfo, { hasNextPage: true, endCursor: 'c:1' });

    const page2 = await gql(q, { first: 2, after: c1.pageInfo.endCursor });
    const c2 = page2.body.data?.tasks as typeof c1;
    assert.deepEqual(
      c2.edges.map((e) => e.node.title),
      ['task 3'],
    );
    assert.deepEqual(c2.pageInfo, { hasNextPage: false, endCursor: 'c:2' });

    await gql(q, { status: 'DONE' });
    assert.deepEqual(calls.tasks?.at(-1), { first: 50, status: 'DONE' });
  });

  test('an empty page has endCursor null', async () => {
    const r = await gql(
      '{ tasks(first: 5, after: "c:99") { edges { cursor } pageInfo { hasNextPage endCursor } } }',
    );
    assert.deepEqual(r.body.data?.tasks, { edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test('task(id) returns the task or null', async () => {
    const found = await gql('query ($id: ID!) { task(id: $id) { id title } }', { id: tasks[1]?.id });
    assert.deepEqual(found.body.data, { task: { id: tasks[1]?.id, title: 'task 2' } });
    const missing = await gql('{ task(id: "nope") { id } }');
    assert.deepEqual(missing.body.data, { task: null });
  });

  test('listings: price filter on priceEur passed through, Relay fields', async () => {
    const r = await gql(`{ listings(first: 10, minPrice: 15, maxPrice: 30) {
      edges { cursor node { id title url price currency priceEur scrapedAt version } }
      pageInfo { hasNextPage endCursor } } }`);
    assert.deepEqual(calls.listings?.at(-1), { first: 10, minPrice: 15, maxPrice: 30 });
    const conn = r.body.data?.listings as { edges: Array<{ node: { priceEur: number; scrapedAt: string } }> };
    assert.deepEqual(
      conn.edges.map((e) => e.node.priceEur),
      [20, 30],
    );
    assert.equal(conn.edges[0]?.node.scrapedAt, T0.toISOString());
  });

  test('listings with minPrice above maxPrice is BAD_USER_INPUT', async () => {
    const r = await gql('{ listings(minPrice: 50, maxPrice: 10) { edges { cursor } } }');
    assert.equal(codeOf(r), 'BAD_USER_INPUT');
    assert.match(r.body.errors?.[0]?.message ?? '', /minPrice/);
  });

  test('files and events (JSON data, default first=100)', async () => {
    const f = await gql('{ files { id name size sha256 importedListings createdAt } }');
    assert.deepEqual((f.body.data?.files as StoredFileDto[] | undefined)?.[0]?.name, 'a.json');
    const e = await gql(
      '{ events(afterPosition: 0, stream: "task-1") { position stream version type data term nodeId createdAt } }',
    );
    assert.deepEqual(calls.events?.at(-1), { first: 100, afterPosition: 0, stream: 'task-1' });
    assert.deepEqual((e.body.data?.events as EventDto[] | undefined)?.[0], {
      ...event(1),
      createdAt: T0.toISOString(),
    });
  });

  for (const [name, query] of [
    ['tasks first=0', '{ tasks(first: 0) { edges { cursor } } }'],
    ['tasks first=501', '{ tasks(first: 501) { edges { cursor } } }'],
    ['listings first=-1', '{ listings(first: -1) { edges { cursor } } }'],
    ['events first=0', '{ events(first: 0) { position } }'],
    ['events afterPosition=-1', '{ events(afterPosition: -1) { position } }'],
    ['events stream=""', '{ events(stream: "") { position } }'],
  ] as const) {
    test(`${name} is BAD_USER_INPUT with a clear message`, async () => {
      const r = await gql(query);
      assert.equal(codeOf(r), 'BAD_USER_INPUT');
      assert.match(r.body.errors?.[0]?.message ?? '', /first|afterPosition|stream/);
    });
  }

  test('a JSON body over 1 MiB answers 413 naming the limit', async () => {
    const r = await gql(`{ headPosition } # ${'x'.repeat(1024 * 1024)}`);
    assert.equal(r.status, 413);
    assert.equal(codeOf(r), 'PAYLOAD_TOO_LARGE');
    assert.equal(r.body.errors?.[0]?.message, 'the request body exceeds the limit of 1048576 bytes');
  });

  test('a query over the depth limit is refused before execution', async () => {
    // Only introspection types recurse, so the deep query goes through __type.
    let deep = 'name';
    for (let i = 0; i < 7; i++) deep = `fields { type { ${deep} } }`;
    const r = await gql(`{ __type(name: "Query") { ${deep} } }`);
    assert.equal(r.status, 400);
    assert.equal(codeOf(r), 'GRAPHQL_VALIDATION_FAILED');
    assert.ok(
      r.body.errors?.some((e) => /is nested 16 deep; the limit is 12/.test(e.message)),
      JSON.stringify(r.body.errors),
    );
  });

  test('the depth rule counts fields through fragments, and ofType not at all', async () => {
    const schema = await buildEnsembleSchema();
    const errorsAt = (limit: number, source: string) =>
      validate(schema, parse(source), [depthLimitRule(limit)]).map((e) => e.message);
    const q = '{ tasks { ...E } } fragment E on TaskConnection { edges { node { id } } }';
    assert.deepEqual(errorsAt(4, q), []);
    assert.deepEqual(errorsAt(3, q), ['The operation is nested 4 deep; the limit is 3.']);
    assert.deepEqual(
      errorsAt(3, '{ __type(name: "Task") { ofType { ofType { ofType { ofType { name } } } } } }'),
      [],
    );
  });
});

describe('mutations and auth', () => {
  const CREATE =
    'mutation ($input: CreateTaskInput!, $key: String) { createTask(input: $input, idempotencyKey: $key) { id title description } }';

  test('a document preview (an operation name the document lacks) is validated and runs nothing', async () => {
    const before = calls.createTask?.length ?? 0;
    const preview = async (query: string) => {
      const res = await fetch(gqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: previewBody(query),
      });
      return { status: res.status, text: await res.text() };
    };
    const shown = await preview(CREATE);
    assert.equal(shown.status, 400);
    const error = (
      JSON.parse(shown.text) as { errors: Array<{ message: string; extensions: { code: string } }> }
    ).errors[0];
    assert.equal(error?.message, `Unknown operation named "${PREVIEW_OPERATION}".`);
    assert.equal(error?.extensions.code, 'OPERATION_RESOLUTION_FAILURE');
    // An invalid document is refused as such (it is not kept either).
    const invalid = await preview('mutation { createTask(input: { nope: 1 }) { id } }');
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /GRAPHQL_VALIDATION_FAILED/);
    assert.equal(calls.createTask?.length ?? 0, before);
  });

  test('without a token: UNAUTHENTICATED and the command is not called', async () => {
    const before = calls.createTask?.length ?? 0;
    const r = await gql(CREATE, { input: { title: 'x' } });
    assert.equal(codeOf(r), 'UNAUTHENTICATED');
    assert.match(r.body.errors?.[0]?.message ?? '', /Authorization: Bearer/);
    assert.equal(calls.createTask?.length ?? 0, before);
  });

  test('with a wrong or malformed token: UNAUTHENTICATED', async () => {
    for (const header of [`Bearer ${TOKEN}x`, 'Bearer short', TOKEN, `Basic ${TOKEN}`]) {
      const r = await gql(CREATE, { input: { title: 'x' } }, { authorization: header });
      assert.equal(codeOf(r), 'UNAUTHENTICATED', header);
    }
  });

  test('queries need no token', async () => {
    const r = await gql('{ cluster { term } }', undefined, { authorization: 'Bearer wrong' });
    assert.deepEqual(r.body.data, { cluster: { term: 7 } });
  });

  test('createTask with the token reaches Commands with input and idempotency key', async () => {
    const r = await gql(CREATE, { input: { title: 'write tests', description: null }, key: 'k1' }, auth);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, {
      createTask: { id: tasks[0]?.id, title: 'write tests', description: null },
    });
    assert.deepEqual(calls.createTask?.at(-1), {
      input: { title: 'write tests', description: null },
      idempotencyKey: 'k1',
    });
  });

  test('an Idempotency-Key header keys every mutation field by its response key; an argument wins', async () => {
    const r = await gql(
      'mutation { a: createTask(input: { title: "x" }) { id } b: createTask(input: { title: "y" }, idempotencyKey: "own") { id } deleteTask(id: "t") }',
      undefined,
      { ...auth, 'idempotency-key': 'req-1' },
    );
    assert.equal(r.body.errors, undefined);
    const creates = (calls.createTask ?? []).slice(-2) as Array<{ idempotencyKey?: string }>;
    assert.deepEqual(
      creates.map((c) => c.idempotencyKey),
      ['req-1:a', 'own'],
    );
    assert.equal(
      (calls.deleteTask?.at(-1) as { idempotencyKey?: string } | undefined)?.idempotencyKey,
      'req-1:deleteTask',
    );
    const tooLong = await gql('mutation { deleteTask(id: "t") }', undefined, {
      ...auth,
      'idempotency-key': 'k'.repeat(161),
    });
    assert.equal(codeOf(tooLong), 'BAD_USER_INPUT');
    // The header and an alias together must fit the stored key's limit: refused, not an internal error.
    const longAlias = await gql(`mutation { ${'a'.repeat(60)}: deleteTask(id: "t") }`, undefined, {
      ...auth,
      'idempotency-key': 'k'.repeat(160),
    });
    assert.equal(codeOf(longAlias), 'BAD_USER_INPUT');
  });

  test('an idempotencyKey argument may be 200 characters (what the log stores), not 201', async () => {
    const fits = await gql(
      `mutation { createTask(input: { title: "x" }, idempotencyKey: "${'k'.repeat(200)}") { id } }`,
      undefined,
      auth,
    );
    assert.equal(fits.body.errors, undefined);
    const over = await gql(
      `mutation { createTask(input: { title: "x" }, idempotencyKey: "${'k'.repeat(201)}") { id } }`,
      undefined,
      auth,
    );
    assert.equal(codeOf(over), 'BAD_USER_INPUT');
  });

  test('updateTask passes only the given fields and the expected version', async () => {
    const r = await gql(
      'mutation { updateTask(id: "t", input: { status: DONE, description: null }, expectedVersion: 2) { status version } }',
      undefined,
      auth,
    );
    assert.deepEqual(r.body.data, { updateTask: { status: 'DONE', version: 3 } });
    assert.deepEqual(calls.updateTask?.at(-1), {
      id: 't',
      patch: { status: 'DONE', description: null },
      expectedVersion: 2,
    });
  });

  test('updateTask refuses a null title, an empty patch and a negative version', async () => {
    for (const args of [
      'input: { title: null }',
      'input: {}',
      'input: { title: "a" }, expectedVersion: -1',
    ]) {
      const r = await gql(`mutation { updateTask(id: "t", ${args}) { id } }`, undefined, auth);
      assert.equal(codeOf(r), 'BAD_USER_INPUT', args);
    }
  });

  test('deleteTask and upsertListing (DateTime input parsed to a Date)', async () => {
    const d = await gql('mutation { deleteTask(id: "t", expectedVersion: 4) }', undefined, auth);
    assert.deepEqual(d.body.data, { deleteTask: true });
    assert.deepEqual(calls.deleteTask?.at(-1), { id: 't', expectedVersion: 4 });

    const input = {
      title: 'Lamp',
      url: 'http://shop/1',
      price: 99.5,
      currency: 'PLN',
      priceEur: 23.1,
      scrapedAt: T0.toISOString(),
    };
    const u = await gql(
      'mutation ($input: ListingInput!) { upsertListing(input: $input, idempotencyKey: "m1") { id url priceEur scrapedAt version } }',
      { input },
      auth,
    );
    assert.deepEqual(u.body.data, {
      upsertListing: {
        id: 'listing-new',
        url: 'http://shop/1',
        priceEur: 23.1,
        scrapedAt: T0.toISOString(),
        version: 1,
      },
    });
    const last = calls.upsertListing?.at(-1) as { input: ListingInputDto; idempotencyKey: string };
    assert.ok(last.input.scrapedAt instanceof Date);
    assert.equal(last.idempotencyKey, 'm1');
  });

  test('a malformed DateTime variable is BAD_USER_INPUT', async () => {
    const input = { title: 'Lamp', url: 'u', price: 1, currency: 'EUR', priceEur: 1, scrapedAt: 'yesterday' };
    const r = await gql(
      'mutation ($input: ListingInput!) { upsertListing(input: $input) { id } }',
      { input },
      auth,
    );
    assert.equal(codeOf(r), 'BAD_USER_INPUT');
  });

  const refusals: Array<[ApiError, string]> = [
    [ApiError.badUserInput('title too long'), 'BAD_USER_INPUT'],
    [ApiError.notFound('no task t'), 'NOT_FOUND'],
    [ApiError.conflict('expected version 1, is 2', { expectedVersion: 1, actualVersion: 2 }), 'CONFLICT'],
    [ApiError.noLeader(), 'NO_LEADER'],
  ];
  for (const [error, code] of refusals) {
    test(`a ${code} refusal from Commands reaches extensions.code with its message`, async () => {
      failNext = error;
      const r = await gql('mutation { deleteTask(id: "t") }', undefined, auth);
      assert.equal(codeOf(r), code);
      assert.equal(r.body.errors?.[0]?.message, error.message);
      assert.equal(r.body.errors?.[0]?.extensions?.stacktrace, undefined);
    });
  }

  test('transferLeadership: token required, `to` passed on (or left out), a blank one refused', async () => {
    const TRANSFER = 'mutation ($to: ID) { transferLeadership(to: $to) { term at leader { id role } } }';
    const before = calls.transferLeadership?.length ?? 0;
    assert.equal(codeOf(await gql(TRANSFER, { to: 'n3' })), 'UNAUTHENTICATED');
    assert.equal(calls.transferLeadership?.length ?? 0, before);
    const named = await gql(TRANSFER, { to: 'n3' }, auth);
    assert.deepEqual(named.body.data, {
      transferLeadership: { term: 8, at: T0.toISOString(), leader: { id: 'n3', role: 'LEADER' } },
    });
    await gql(TRANSFER, {}, auth);
    assert.deepEqual(calls.transferLeadership?.slice(before), [{ to: 'n3' }, { to: undefined }]);
    const blank = await gql(TRANSFER, { to: ' ' }, auth);
    assert.equal(codeOf(blank), 'BAD_USER_INPUT');
    failNext = ApiError.transferTimeout('no new leader');
    assert.equal(codeOf(await gql(TRANSFER, {}, auth)), 'TRANSFER_TIMEOUT');
  });

  test('NOT_LEADER names the leader in extensions.leader', async () => {
    failNext = ApiError.notLeader({ id: 'n1', url: 'http://127.0.0.1:4001' });
    const r = await gql('mutation { deleteTask(id: "t") }', undefined, auth);
    assert.equal(codeOf(r), 'NOT_LEADER');
    assert.deepEqual(r.body.errors?.[0]?.extensions?.leader, { id: 'n1', url: 'http://127.0.0.1:4001' });
  });

  test('an error the host knows is answered as its refusal, not masked', async () => {
    failNext = new KnownHostError('the primary moved');
    const r = await gql('{ cluster { term } }');
    assert.equal(codeOf(r), 'SERVICE_UNAVAILABLE');
    assert.equal(r.body.errors?.[0]?.message, 'known to the host: the primary moved');
    assert.match(JSON.stringify(r.body.errors?.[0]), /"path":\["cluster"\]/);
  });

  test('an unexpected error is logged and masked as INTERNAL_SERVER_ERROR', async () => {
    failNext = new Error('password=hunter2 connection refused');
    const r = await gql('{ cluster { term } }');
    assert.equal(codeOf(r), 'INTERNAL_SERVER_ERROR');
    assert.equal(r.body.errors?.[0]?.message, 'Internal server error');
    assert.doesNotMatch(JSON.stringify(r.body), /hunter2/);
    assert.ok(logs.some((l) => l.err?.message === 'password=hunter2 connection refused'));
  });
});

describe('uploads', () => {
  const preflight = { 'apollo-require-preflight': 'true', ...auth };

  test('a multipart upload reaches Commands.uploadFile with the exact bytes and name', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 13, 10, 45, 45, ...Buffer.from('[{"title":"x"}]')]);
    const r = await upload(bytes, preflight, 'latest.json');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const call = calls.uploadFile?.at(-1) as { name: string; bytes: Buffer };
    assert.equal(call.name, 'latest.json');
    assert.ok(call.bytes.equals(bytes));
    assert.deepEqual(r.body.data?.uploadFile, {
      ...storedFile('latest.json', bytes),
      createdAt: T0.toISOString(),
    });
  });

  test('a file of exactly the limit is accepted', async () => {
    const r = await upload(Buffer.alloc(MAX_UPLOAD, 7), preflight);
    assert.equal(r.status, 200);
    assert.equal((r.body.data?.uploadFile as StoredFileDto | undefined)?.size, MAX_UPLOAD);
  });

  test('multipart without the preflight header is blocked as CSRF (400)', async () => {
    const before = calls.uploadFile?.length ?? 0;
    const r = await upload(Buffer.from('[]'), auth);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /CSRF/);
    assert.equal(calls.uploadFile?.length ?? 0, before);
  });

  test('an upload over the limit answers 413 with a JSON error', async () => {
    const before = calls.uploadFile?.length ?? 0;
    const r = await upload(Buffer.alloc(MAX_UPLOAD * 4 + 1, 1), preflight);
    assert.equal(r.status, 413);
    assert.equal(codeOf(r), 'PAYLOAD_TOO_LARGE');
    assert.match(r.body.errors?.[0]?.message ?? '', new RegExp(`${MAX_UPLOAD} bytes`));
    assert.equal(calls.uploadFile?.length ?? 0, before);
  });

  test('a multipart body cut short, or a map naming a file that is not there, is BAD_USER_INPUT', async () => {
    const before = calls.uploadFile?.length ?? 0;
    const whole = multipart({ query: UPLOAD, variables: { file: null } }, { 0: ['variables.file'] }, [
      { field: '0', name: 'a.json', bytes: Buffer.from('[]') },
    ]);
    const missing = multipart({ query: UPLOAD, variables: { file: null } }, { 1: ['variables.file'] }, [
      { field: '0', name: 'a.json', bytes: Buffer.from('[]') },
    ]);
    for (const { body, contentType } of [
      { body: whole.body.subarray(0, whole.body.length - 20), contentType: whole.contentType },
      missing,
    ]) {
      const res = await fetch(gqlUrl, {
        method: 'POST',
        headers: { 'content-type': contentType, ...preflight },
        body,
      });
      const answer = (await res.json()) as GqlResponse['body'];
      assert.equal(answer.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(answer));
      assert.match(answer.errors?.[0]?.message ?? '', /^the upload failed: /);
    }
    assert.equal(calls.uploadFile?.length ?? 0, before);
  });

  test('more than one file answers 413 with a JSON error', async () => {
    const { body, contentType } = multipart(
      {
        query:
          'mutation ($a: Upload!, $b: Upload!) { a: uploadFile(file: $a) { id } b: uploadFile(file: $b) { id } }',
        variables: { a: null, b: null },
      },
      { 0: ['variables.a'], 1: ['variables.b'] },
      [
        { field: '0', name: 'a', bytes: Buffer.from('a') },
        { field: '1', name: 'b', bytes: Buffer.from('b') },
      ],
    );
    const res = await fetch(gqlUrl, {
      method: 'POST',
      headers: { 'content-type': contentType, ...preflight },
      body,
    });
    assert.equal(res.status, 413);
    assert.equal(
      ((await res.json()) as GqlResponse['body']).errors?.[0]?.extensions?.code,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('a large upload without a token is UNAUTHENTICATED, and its unread body does not wedge the server', async () => {
    // Nothing reads this file, and it is under the limit so busboy keeps it (over the limit it would
    // discard it). Undrained, backpressure stalls the socket and close() waits seconds or forever
    // instead of milliseconds; the 3 s deadline tells the two apart.
    const own = await startTestServer(16 * 1024 * 1024);
    const r = await upload(
      Buffer.alloc(8 * 1024 * 1024, 2),
      { 'apollo-require-preflight': 'true' },
      'big',
      `${own.url}/graphql`,
    );
    assert.equal(codeOf(r), 'UNAUTHENTICATED');
    let deadline: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      own.close().then(() => 'closed'),
      new Promise((resolve) => {
        deadline = setTimeout(() => resolve('stuck'), 3000);
      }),
    ]);
    clearTimeout(deadline);
    assert.equal(outcome, 'closed');
  });
});

describe('schema', () => {
  // The contract's SDL (CONTRACT.md, "GraphQL"), plus ClusterEvent as the brief defines it.
  const CONTRACT = `
    scalar DateTime
    scalar JSON
    scalar Upload
    type Query {
      cluster: Cluster!
      tasks(status: TaskStatus, first: Int = 50, after: String): TaskConnection!
      task(id: ID!): Task
      listings(first: Int = 50, after: String, minPrice: Float, maxPrice: Float): ListingConnection!
      files: [StoredFile!]!
      events(afterPosition: Int, first: Int = 100, stream: String): [Event!]!
    }
    type Mutation {
      createTask(input: CreateTaskInput!, idempotencyKey: String): Task!
      updateTask(id: ID!, input: UpdateTaskInput!, expectedVersion: Int): Task!
      deleteTask(id: ID!, expectedVersion: Int): Boolean!
      upsertListing(input: ListingInput!, idempotencyKey: String): Listing!
      uploadFile(file: Upload!): StoredFile!
    }
    type Subscription {
      leaderChanged: LeaderChange!
      clusterEvents: ClusterEvent!
      events(stream: String): Event!
    }
    type Cluster { term: Int!, leader: NodeInfo, nodes: [NodeInfo!]!, self: NodeInfo }
    type NodeInfo { id: ID!, url: String!, role: Role!, term: Int!, lastSeenAt: DateTime }
    enum Role { FOLLOWER CANDIDATE LEADER }
    enum TaskStatus { TODO IN_PROGRESS DONE }
    type Task { id: ID!, title: String!, description: String, status: TaskStatus!, createdBy: ID!, version: Int!, createdAt: DateTime!, updatedAt: DateTime! }
    type Listing { id: ID!, title: String!, url: String!, price: Float!, currency: String!, priceEur: Float!, scrapedAt: DateTime!, version: Int! }
    type StoredFile { id: ID!, name: String!, size: Int!, sha256: String!, importedListings: Int!, createdAt: DateTime! }
    type Event { position: Int!, stream: String!, version: Int!, type: String!, data: JSON!, term: Int!, nodeId: ID!, createdAt: DateTime! }
    type LeaderChange { term: Int!, leader: NodeInfo!, at: DateTime! }
    type ClusterEvent { nodeId: ID!, term: Int!, from: Role!, to: Role!, reason: String!, at: DateTime! }
    type PageInfo { hasNextPage: Boolean!, endCursor: String }
    type TaskEdge { cursor: String!, node: Task! }
    type TaskConnection { edges: [TaskEdge!]!, pageInfo: PageInfo! }
    type ListingEdge { cursor: String!, node: Listing! }
    type ListingConnection { edges: [ListingEdge!]!, pageInfo: PageInfo! }
    input CreateTaskInput { title: String!, description: String, status: TaskStatus }
    input UpdateTaskInput { title: String, description: String, status: TaskStatus }
    input ListingInput { title: String!, url: String!, price: Float!, currency: String!, priceEur: Float!, scrapedAt: DateTime! }
  `;

  function argsOf(field: GraphQLField<unknown, unknown>) {
    return Object.fromEntries(
      field.args.map((a) => [
        a.name,
        `${a.type}${a.defaultValue === undefined ? '' : ` = ${a.defaultValue}`}`,
      ]),
    );
  }

  function assertContains(served: GraphQLSchema, contract: GraphQLSchema) {
    for (const expected of Object.values(contract.getTypeMap())) {
      if (expected.name.startsWith('__')) continue;
      const actual = served.getType(expected.name);
      assert.ok(actual, `type ${expected.name} is served`);
      assert.equal(actual.constructor.name, expected.constructor.name, `${expected.name} kind`);
      if (isEnumType(expected) && isEnumType(actual)) {
        assert.deepEqual(
          actual.getValues().map((v) => v.name),
          expected.getValues().map((v) => v.name),
        );
      }
      if (isInputObjectType(expected) && isInputObjectType(actual)) {
        for (const [name, f] of Object.entries(expected.getFields())) {
          assert.equal(String(actual.getFields()[name]?.type), String(f.type), `${expected.name}.${name}`);
        }
      }
      if (isObjectType(expected) && isObjectType(actual)) {
        for (const [name, f] of Object.entries(expected.getFields())) {
          const a: GraphQLField<unknown, unknown> | undefined = actual.getFields()[name];
          assert.ok(a, `${expected.name}.${name} is served`);
          assert.equal(String(a.type), String(f.type), `${expected.name}.${name} type`);
          const servedArgs = argsOf(a);
          for (const [argName, sig] of Object.entries(argsOf(f))) {
            assert.equal(servedArgs[argName], sig, `${expected.name}.${name}(${argName})`);
          }
        }
      }
    }
  }

  test('introspection over HTTP (standard query passes the depth limit) serves every contract type and field', async () => {
    const r = await gql(getIntrospectionQuery());
    assert.equal(r.status, 200, JSON.stringify(r.body.errors));
    const served = buildClientSchema(r.body.data as unknown as IntrospectionQuery);
    assertContains(served, buildSchema(CONTRACT));
  });
});

describe('subscriptions over graphql-ws', () => {
  let client: Client;
  before(() => {
    client = createClient({
      url: gqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${TOKEN}` },
    });
  });
  after(async () => {
    await client.dispose();
  });

  test('events(stream) delivers what the feed pushes, in order, and ends the feed on unsubscribe', async () => {
    const it = client.iterate({
      query: 'subscription ($s: String) { events(stream: $s) { position stream type data createdAt } }',
      variables: { s: 'task-1' },
    });
    const first = it.next();
    await feedEvents.until(() => feedEvents.subscribers.size === 1);
    assert.deepEqual(feedEvents.opened.at(-1), { stream: 'task-1' });
    for (const p of [5, 6, 7]) feedEvents.push(event(p));
    const got = [await first, await it.next(), await it.next()].map((r) => r.value?.data?.events);
    assert.deepEqual(
      got.map((e) => (e as EventDto).position),
      [5, 6, 7],
    );
    assert.deepEqual(got[0], {
      position: 5,
      stream: 'task-1',
      type: 'TaskUpdated',
      data: event(5).data,
      createdAt: T0.toISOString(),
    });
    await it.return?.();
    await feedEvents.until(() => feedEvents.subscribers.size === 0);
  });

  test('leaderChanged and clusterEvents', async () => {
    const leader = client.iterate({
      query: 'subscription { leaderChanged { term at leader { id url role } } }',
    });
    const transitions = client.iterate({
      query: 'subscription { clusterEvents { nodeId term from to reason at } }',
    });
    const l1 = leader.next();
    const t1 = transitions.next();
    await feedLeader.until(() => feedLeader.subscribers.size === 1);
    await feedCluster.until(() => feedCluster.subscribers.size === 1);
    feedLeader.push({ term: 8, leader: node('n3', 'LEADER'), at: T0 });
    feedCluster.push({
      nodeId: 'n3',
      term: 8,
      from: 'CANDIDATE',
      to: 'LEADER',
      reason: 'won the vote',
      at: T0,
    });
    assert.deepEqual((await l1).value?.data, {
      leaderChanged: {
        term: 8,
        at: T0.toISOString(),
        leader: { id: 'n3', url: 'http://127.0.0.1:4003', role: 'LEADER' },
      },
    });
    assert.deepEqual((await t1).value?.data, {
      clusterEvents: {
        nodeId: 'n3',
        term: 8,
        from: 'CANDIDATE',
        to: 'LEADER',
        reason: 'won the vote',
        at: T0.toISOString(),
      },
    });
    await leader.return?.();
    await transitions.return?.();
    await feedLeader.until(() => feedLeader.subscribers.size === 0);
    await feedCluster.until(() => feedCluster.subscribers.size === 0);
  });

  test('a bad subscription argument is BAD_USER_INPUT', async () => {
    const it = client.iterate({ query: 'subscription { events(afterPosition: -1) { position } }' });
    const r = await it.next();
    assert.equal(r.value?.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('mutations over the socket use the token from connectionParams', async () => {
    const ok = await client.iterate({ query: 'mutation { deleteTask(id: "ws") }' }).next();
    assert.deepEqual(ok.value?.data, { deleteTask: true });
    const anonymous = createClient({
      url: gqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    try {
      const refused = await anonymous.iterate({ query: 'mutation { deleteTask(id: "ws") }' }).next();
      assert.equal(refused.value?.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    } finally {
      await anonymous.dispose();
    }
  });
});

describe('batches from the gateway (/graphql/batch)', () => {
  const SECRET = 'batch-test-secret-0123456789';
  let batchServer: GraphqlServer;
  let base = '';

  before(async () => {
    batchServer = await startTestServer(MAX_UPLOAD, SECRET);
    base = batchServer.url;
  });

  after(() => batchServer.close());

  const GRAPHQL_RESPONSE = 'application/graphql-response+json';

  const postBatch = (body: Buffer, signature: string | undefined, contentType = BATCH_CONTENT_TYPE) =>
    fetch(`${base}${BATCH_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        ...(signature === undefined ? {} : { [SIGNATURE_HEADER]: signature }),
      },
      body,
    });

  const single = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  };

  test('each request is answered as it would be alone: status, content type and bytes', async () => {
    const requests: Array<{ headers: Record<string, string>; body: string }> = [
      { headers: {}, body: JSON.stringify({ query: '{ tasks(first: 2) { edges { node { id title } } } }' }) },
      { headers: {}, body: JSON.stringify({ query: '{ nope }' }) },
      { headers: {}, body: JSON.stringify({ query: 'mutation { deleteTask(id: "b1") }' }) },
      {
        headers: { ...auth, 'idempotency-key': 'batch-key' },
        body: JSON.stringify({ query: 'mutation { deleteTask(id: "b2") }' }),
      },
      // The client's Accept travels too: the media type, and with it a request error's status.
      { headers: { accept: GRAPHQL_RESPONSE }, body: JSON.stringify({ query: '{ headPosition }' }) },
      { headers: { accept: GRAPHQL_RESPONSE }, body: JSON.stringify({ query: '{ nope }' }) },
      { headers: {}, body: '{"query": ' },
    ];
    const batch = encodeRequests(requests.map((r) => ({ headers: r.headers, body: Buffer.from(r.body) })));
    const res = await postBatch(batch, signBatch(SECRET, batch));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), BATCH_CONTENT_TYPE);
    const answers = decodeResponses(Buffer.from(await res.arrayBuffer()), requests.length);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 200, 200, 200, 400, 400],
    );
    assert.deepEqual(
      answers.slice(4, 6).map((a) => a.contentType),
      [`${GRAPHQL_RESPONSE}; charset=utf-8`, `${GRAPHQL_RESPONSE}; charset=utf-8`],
    );
    assert.deepEqual(calls.deleteTask?.at(-1), {
      id: 'b2',
      expectedVersion: undefined,
      idempotencyKey: 'batch-key:deleteTask',
    });
    // The same requests one by one (the JSON one that does not parse is said differently by
    // body-parser, so only its code is compared).
    for (const [i, r] of requests.entries()) {
      const alone = await single(r.body, r.headers);
      const a = answers[i] as BatchedResponse;
      assert.equal(a.status, alone.status, `status of ${r.body}`);
      if (i === requests.length - 1) {
        assert.equal(JSON.parse(a.body.toString()).errors[0].extensions.code, 'BAD_REQUEST');
        continue;
      }
      assert.equal(a.contentType, alone.contentType, `content type of ${r.body}`);
      assert.equal(a.body.toString(), alone.text, `answer to ${r.body}`);
    }
  });

  test('an unsigned or wrongly signed batch is refused (401) and runs nothing', async () => {
    const before = calls.deleteTask?.length ?? 0;
    const batch = encodeRequests([
      { headers: auth, body: Buffer.from(JSON.stringify({ query: 'mutation { deleteTask(id: "x") }' })) },
    ]);
    for (const signature of [undefined, signBatch('another-secret-0123456789', batch), 'sha256=00']) {
      const res = await postBatch(batch, signature);
      assert.equal(res.status, 401);
      const body = (await res.json()) as GqlResponse['body'];
      assert.equal(body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    }
    assert.equal(calls.deleteTask?.length ?? 0, before);
  });

  test('a malformed batch is 400 saying what is wrong; another content type is 415', async () => {
    const good = encodeRequests([{ headers: {}, body: Buffer.from('{"query":"{ headPosition }"}') }]);
    for (const [bytes, problem] of [
      [good.subarray(0, good.length - 3), /runs past the end/],
      [Buffer.concat([good, Buffer.from([0])]), /after the last frame/],
      [Buffer.from([0, 0, 0, 0]), /0 requests/],
      [Buffer.from([0, 0, 1, 0]), /256 requests/],
    ] as const) {
      const res = await postBatch(bytes, signBatch(SECRET, bytes));
      assert.equal(res.status, 400);
      const body = (await res.json()) as GqlResponse['body'];
      assert.match(body.errors?.[0]?.message ?? '', problem);
    }
    const res = await postBatch(good, signBatch(SECRET, good), 'application/json');
    assert.equal(res.status, 415);
  });

  test('a batch bigger than the gateway ever sends is refused unread (413)', async () => {
    const res = await postBatch(Buffer.alloc(MAX_BATCH_BYTES + 1), 'sha256=unchecked');
    assert.equal(res.status, 413);
    const body = (await res.json()) as GqlResponse['body'];
    assert.equal(body.errors?.[0]?.message, `the request body exceeds the limit of ${MAX_BATCH_BYTES} bytes`);
  });

  test('a server without the cluster secret (the gateway) has no batch route', async () => {
    const batch = encodeRequests([{ headers: {}, body: Buffer.from('{"query":"{ headPosition }"}') }]);
    const res = await fetch(`${server.url}${BATCH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE, [SIGNATURE_HEADER]: signBatch(SECRET, batch) },
      body: batch,
    });
    assert.notEqual(res.status, 200);
  });
});
