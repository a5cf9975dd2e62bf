/**
 * The GraphQL API end to end on a real 3-node cluster sharing one PostgreSQL: writes through the
 * leader, the same reads on every node, refusals (auth, NOT_LEADER, conflicts, bad uploads),
 * subscriptions over graphql-ws, and a failover by SIGKILL of the leader. Plain `fetch` and
 * graphql-ws only. Every wait is on an event (a log record, a subscription message), bounded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Client, createClient } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { rehearsalMark } from '../common/rehearsal-mark.js';
import { LocalCluster, type LogRecord } from '../launcher/local-cluster.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { WriteRehearsal } from './rehearsal/write-rehearsal.js';
import { REHEARSAL_REFUSAL } from './store/rehearsal-fence.js';

const TOKEN = 'graphql-cluster-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BASE_PORT = 14_300;
const SECRET = 'graphql-cluster-test-secret-0123456789';

interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}
interface GqlResponse {
  status: number;
  data: Record<string, unknown> | null | undefined;
  errors: GqlError[] | undefined;
}

interface TaskView {
  id: string;
  title: string;
  description: string | null;
  status: string;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}
interface ListingView {
  id: string;
  title: string;
  url: string;
  price: number;
  currency: string;
  priceEur: number;
  scrapedAt: string;
  version: number;
}
interface FileView {
  id: string;
  name: string;
  size: number;
  sha256: string;
  importedListings: number;
  createdAt: string;
}
interface EventView {
  position: number;
  stream: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  term: number;
  nodeId: string;
  createdAt: string;
}
interface NodeInfoView {
  id: string;
  url: string;
  role: string;
  term: number;
}
interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const TASK = 'id title description status createdBy version createdAt updatedAt';
const LISTING = 'id title url price currency priceEur scrapedAt version';
const FILE = 'id name size sha256 importedListings createdAt';
const EVENT = 'position stream version type data term nodeId createdAt';
const NODE = 'id url role term';

const CREATE_TASK = `mutation ($input: CreateTaskInput!, $key: String) {
  createTask(input: $input, idempotencyKey: $key) { ${TASK} } }`;
const UPDATE_TASK = `mutation ($id: ID!, $input: UpdateTaskInput!, $v: Int) {
  updateTask(id: $id, input: $input, expectedVersion: $v) { ${TASK} } }`;
const DELETE_TASK = 'mutation ($id: ID!, $v: Int) { deleteTask(id: $id, expectedVersion: $v) }';
const GET_TASK = `query ($id: ID!) { task(id: $id) { ${TASK} } }`;
const TASKS = `query ($status: TaskStatus, $first: Int, $after: String) {
  tasks(status: $status, first: $first, after: $after) {
    edges { cursor node { ${TASK} } } pageInfo { hasNextPage endCursor } } }`;
const UPSERT_LISTING = `mutation ($input: ListingInput!, $key: String) {
  upsertListing(input: $input, idempotencyKey: $key) { ${LISTING} } }`;
const UPSERT_LISTINGS = `mutation ($inputs: [ListingInput!]!, $keys: [String!]) {
  upsertListings(inputs: $inputs, idempotencyKeys: $keys) { ${LISTING} } }`;
const LISTINGS = `query ($first: Int, $after: String, $min: Float, $max: Float) {
  listings(first: $first, after: $after, minPrice: $min, maxPrice: $max) {
    edges { cursor node { ${LISTING} } } pageInfo { hasNextPage endCursor } } }`;
const FILES = `query { files { ${FILE} } }`;
const EVENTS = `query ($after: Int, $first: Int) { events(afterPosition: $after, first: $first) { ${EVENT} } }`;
const CLUSTER = `query { cluster { term leader { ${NODE} } self { ${NODE} } nodes { ${NODE} } } }`;
const UPLOAD = `mutation ($file: Upload!) { uploadFile(file: $file) { ${FILE} } }`;

let pg: TestPostgres;
let c: LocalCluster;
const records: LogRecord[] = [];
const clients: Client[] = [];
let leader = '';
let term = 0;

const followers = () => c.ids.filter((id) => id !== leader && c.isRunning(id));

// ---------------------------------------------------------------- helpers

async function gql(
  node: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GqlResponse> {
  const res = await fetch(`${c.url(node)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

/** The data of an answer that must have no errors. */
function dataOf<T>(r: GqlResponse, field: string): T {
  assert.equal(r.errors, undefined, `unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.data?.[field] as T;
}

/** The one error of an answer that must fail. */
function errorOf(r: GqlResponse): GqlError {
  assert.ok(r.errors && r.errors.length === 1, `expected one error, got ${JSON.stringify(r)}`);
  return r.errors[0] as GqlError;
}

const query = async <T>(node: string, q: string, field: string, vars: Record<string, unknown> = {}) =>
  dataOf<T>(await gql(node, q, vars), field);
const write = (q: string, vars: Record<string, unknown> = {}) => gql(leader, q, vars, AUTH);
const written = async <T>(q: string, field: string, vars: Record<string, unknown> = {}) =>
  dataOf<T>(await write(q, vars), field);

async function createTask(input: Record<string, unknown>, key?: string): Promise<TaskView> {
  return written<TaskView>(CREATE_TASK, 'createTask', { input, ...(key ? { key } : {}) });
}

/** Every event, paging through `events(afterPosition, first)`. */
async function allEvents(node: string, afterPosition = 0): Promise<EventView[]> {
  const out: EventView[] = [];
  let cursor = afterPosition;
  for (;;) {
    const page = await query<EventView[]>(node, EVENTS, 'events', { after: cursor, first: 100 });
    out.push(...page);
    if (page.length < 100) return out;
    cursor = (page.at(-1) as EventView).position;
  }
}

async function allPages<T>(
  node: string,
  q: string,
  field: string,
  vars: Record<string, unknown>,
  first: number,
): Promise<{ pages: Connection<T>[]; nodes: T[] }> {
  const pages: Connection<T>[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page: Connection<T> = await query<Connection<T>>(node, q, field, { ...vars, first, after });
    pages.push(page);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
    assert.ok(after, 'a page with a next page has an endCursor');
  }
  return { pages, nodes: pages.flatMap((p) => p.edges.map((e) => e.node)) };
}

const allTasks = async (node: string, status?: string) =>
  (await allPages<TaskView>(node, TASKS, 'tasks', status ? { status } : {}, 500)).nodes;
const allListings = async (node: string, min?: number, max?: number) =>
  (
    await allPages<ListingView>(
      node,
      LISTINGS,
      'listings',
      { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) },
      500,
    )
  ).nodes;

/** A multipart request per the GraphQL multipart request spec: `operations`, `map`, file `0`. */
async function upload(node: string, bytes: Buffer, name: string, headers = AUTH): Promise<GqlResponse> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([bytes], { type: 'application/json' }), name);
  const res = await fetch(`${c.url(node)}/graphql`, {
    method: 'POST',
    headers: { 'apollo-require-preflight': 'true', ...headers },
    body: form,
  });
  const body = (await res.json()) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
  return { status: res.status, data: body.data, errors: body.errors };
}

function wsClient(node: string): Client {
  const client = createClient({
    url: `${c.url(node).replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

/**
 * Resolves once the server has taken every subscription sent before on this socket (a later
 * query on the same socket, which needs a database round trip, has been answered). A feed
 * "from now" may still be reading the log's head: only feeds from a position are surely set up.
 */
async function barrier(client: Client): Promise<void> {
  const r = await client.iterate({ query: 'query { cluster { term } }' }).next();
  assert.equal(r.value?.errors, undefined);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next value of a subscription (its data field), bounded. */
async function nextOf<T>(
  it: AsyncIterator<{ data?: unknown; errors?: unknown }>,
  field: string,
  what: string,
) {
  const r = await within(it.next(), 10_000, what);
  assert.equal(r.done, false, `${what}: the subscription ended`);
  assert.equal(r.value.errors, undefined, `${what}: ${JSON.stringify(r.value.errors)}`);
  return (r.value.data as Record<string, T>)[field] as T;
}

/** A log record already seen or still to come. */
function record(predicate: (r: LogRecord) => boolean, what: string): Promise<LogRecord> {
  const seen = records.find(predicate);
  return seen ? Promise.resolve(seen) : c.waitFor(predicate, 10_000, what);
}

const claimed = (node: string, t: number) =>
  record(
    (r) => r.node === node && r.msg === `claimed the write fence for term ${t}`,
    `${node} to claim ${t}`,
  );

const byCreation = (a: TaskView, b: TaskView) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------- the cluster

before(async () => {
  pg = await startTestPostgres();
  c = new LocalCluster({
    size: 3,
    secret: SECRET,
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-graphql-')),
    databaseUrl: await pg.createDatabase('graphql'),
    apiToken: TOKEN,
    basePort: BASE_PORT,
    baseUdpPort: BASE_PORT + 10,
    onRecord: (r) => {
      records.push(r);
      // Errors logged by a node (a masked INTERNAL_SERVER_ERROR, say) explain a failure here.
      if (r.level >= 50) process.stderr.write(`[${r.node}] ${JSON.stringify(r)}\n`);
    },
    onText: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
  });
  const elected = c.waitForLeader();
  c.startAll();
  await elected;
  await c.waitForReady();
  ({ leader, term } = await c.waitForAgreement());
  await claimed(leader, term);
});

after(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await c?.stopAll();
  await pg?.stop();
});

describe('GraphQL on a 3-node cluster', { timeout: 120_000 }, () => {
  /** Every task created and not deleted, as the last mutation returned it. */
  const live = new Map<string, TaskView>();
  let deletedId = '';
  /** The oldest live task. */
  const someLiveTask = () => [...live.values()].sort(byCreation)[0] as TaskView;

  test('mutations need the bearer token: none, malformed or wrong is UNAUTHENTICATED', async () => {
    const before = await allEvents(leader);
    const input = { title: 'no token' };
    const refusals: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: TOKEN },
    ];
    for (const headers of refusals) {
      const r = await gql(leader, CREATE_TASK, { input }, headers);
      assert.equal(errorOf(r).extensions?.code, 'UNAUTHENTICATED', JSON.stringify(headers));
      assert.equal(r.data, null);
    }
    const refused = await upload(leader, Buffer.from('[]'), 'x.json', { authorization: 'Bearer nope' });
    assert.equal(errorOf(refused).extensions?.code, 'UNAUTHENTICATED');
    // Queries need no token.
    assert.ok(await query(leader, CLUSTER, 'cluster'));
    assert.deepEqual(await allEvents(leader), before, 'nothing was written');
  });

  test('a mutation sent to a follower is NOT_LEADER naming the leader, and writes nothing', async () => {
    const before = await allEvents(leader);
    for (const follower of followers()) {
      const r = await gql(follower, CREATE_TASK, { input: { title: `sent to ${follower}` } }, AUTH);
      const error = errorOf(r);
      assert.equal(error.extensions?.code, 'NOT_LEADER', error.message);
      assert.deepEqual(error.extensions?.leader, { id: leader, url: c.url(leader) });
      const up = await upload(follower, Buffer.from('[]'), 'empty.json');
      assert.equal(errorOf(up).extensions?.code, 'NOT_LEADER');
      assert.deepEqual(errorOf(up).extensions?.leader, { id: leader, url: c.url(leader) });
    }
    assert.deepEqual(await allEvents(leader), before, 'nothing was written');
    assert.deepEqual(await allTasks(leader), []);
  });

  test('a write rehearsal runs to the append on the leader and on a follower, and stores nothing', async () => {
    const before = await allEvents(leader);
    for (const node of c.ids) {
      const warnings: string[] = [];
      const rehearsal = new WriteRehearsal({
        selfUrl: c.url(node),
        apiToken: TOKEN,
        clusterSecret: SECRET,
        leads: () => false,
        logger: pino({ level: 'debug' }, { write: (line: string) => void warnings.push(line) }),
      });
      const answers = await rehearsal.rehearse();
      // Two in a batch, the same two alone: both routes the gateway sends writes by.
      assert.equal(answers.length, 4, `${node}: ${warnings.join('')}`);
      for (const answer of answers) {
        // The refusal comes from the rehearsal fence's answer to append_batch's NOT_LEADER, so
        // the write ran through GraphQL, the command handler and the group commit to the append.
        const error = (JSON.parse(answer) as { errors: GqlError[] }).errors[0];
        assert.equal(error?.extensions?.code, 'NOT_LEADER', answer);
        assert.equal(error?.message, REHEARSAL_REFUSAL, answer);
      }
      assert.deepEqual(warnings, [], `${node} logged nothing`);
    }
    assert.deepEqual(await allEvents(leader), before, 'nothing was written');
    assert.deepEqual(await allTasks(leader), []);
  });

  test("a rehearsal header without the key's mark is ignored: the write is stored", async () => {
    const create = (key: string, mark: string) =>
      gql(
        leader,
        CREATE_TASK,
        { input: { title: `marked ${key}` } },
        {
          ...AUTH,
          'idempotency-key': key,
          'x-ensemble-rehearsal': mark,
        },
      );
    const refused = errorOf(await create('marked-0', rehearsalMark(SECRET, 'marked-0')));
    assert.equal(refused.message, REHEARSAL_REFUSAL, 'the mark of its own key: a rehearsal');
    for (const [key, mark] of [
      ['marked-1', '1'],
      ['marked-2', rehearsalMark(SECRET, 'another key')],
      ['marked-3', rehearsalMark('another secret 0123456789', 'marked-3')],
    ] as const) {
      const task = dataOf<TaskView>(await create(key, mark), 'createTask');
      assert.equal(task.title, `marked ${key}`, `${key} stored`);
      dataOf(await write(DELETE_TASK, { id: task.id }), 'deleteTask');
    }
    assert.deepEqual(await allTasks(leader), []);
  });

  test('createTask, with and without an idempotency key', async () => {
    const plain = await createTask({ title: '  write the tests  ', description: 'end to end' });
    assert.equal(plain.title, 'write the tests', 'the title is trimmed');
    assert.deepEqual(
      [plain.description, plain.status, plain.createdBy, plain.version],
      ['end to end', 'TODO', leader, 1],
    );
    assert.equal(plain.createdAt, plain.updatedAt);
    live.set(plain.id, plain);

    const keyed = await createTask({ title: 'keyed', status: 'IN_PROGRESS' }, 'create-keyed-1');
    assert.deepEqual([keyed.status, keyed.version, keyed.description], ['IN_PROGRESS', 1, null]);
    live.set(keyed.id, keyed);
    const events = await allEvents(leader);
    const again = await createTask({ title: 'keyed', status: 'IN_PROGRESS' }, 'create-keyed-1');
    assert.deepEqual(again, keyed, 'the repeat returns the same task');
    assert.deepEqual(await allEvents(leader), events, 'the repeat appended nothing');
    assert.equal((await allTasks(leader)).length, 2);

    // The key belongs to a task creation: reusing it for a listing is refused.
    const misuse = await write(UPSERT_LISTING, {
      input: {
        title: 'x',
        url: 'https://shop.example/x',
        price: 1,
        currency: 'EUR',
        priceEur: 1,
        scrapedAt: '2025-01-01T00:00:00Z',
      },
      key: 'create-keyed-1',
    });
    assert.equal(errorOf(misuse).extensions?.code, 'BAD_USER_INPUT');
    assert.deepEqual(await allEvents(leader), events);
  });

  test('updateTask: title, status transitions, expectedVersion', async () => {
    const task = await createTask({ title: 'to update' });
    const renamed = await written<TaskView>(UPDATE_TASK, 'updateTask', {
      id: task.id,
      input: { title: 'updated' },
    });
    assert.deepEqual([renamed.title, renamed.status, renamed.version], ['updated', 'TODO', 2]);
    assert.equal(renamed.createdAt, task.createdAt);
    assert.ok(renamed.updatedAt >= task.updatedAt);

    const started = await written<TaskView>(UPDATE_TASK, 'updateTask', {
      id: task.id,
      input: { status: 'IN_PROGRESS' },
      v: 2,
    });
    assert.deepEqual([started.status, started.version], ['IN_PROGRESS', 3]);

    const stale = errorOf(await write(UPDATE_TASK, { id: task.id, input: { status: 'DONE' }, v: 2 }));
    assert.equal(stale.extensions?.code, 'CONFLICT', stale.message);
    assert.equal(stale.extensions?.expectedVersion, 2);
    assert.equal(stale.extensions?.actualVersion, 3);

    const done = await written<TaskView>(UPDATE_TASK, 'updateTask', {
      id: task.id,
      input: { status: 'DONE', description: 'finished' },
      v: 3,
    });
    assert.deepEqual([done.status, done.description, done.version], ['DONE', 'finished', 4]);
    // DONE → TODO is not a transition (reopen to IN_PROGRESS first).
    const back = errorOf(await write(UPDATE_TASK, { id: task.id, input: { status: 'TODO' } }));
    assert.equal(back.extensions?.code, 'BAD_USER_INPUT', back.message);
    // An update that changes nothing is no event and no new version.
    const same = await written<TaskView>(UPDATE_TASK, 'updateTask', {
      id: task.id,
      input: { title: 'updated' },
    });
    assert.equal(same.version, 4);
    assert.deepEqual(await query(leader, GET_TASK, 'task', { id: task.id }), done);
    live.set(task.id, done);
  });

  test('deleteTask: a stale expectedVersion is CONFLICT; then the task is gone', async () => {
    const task = await createTask({ title: 'to delete' });
    const stale = errorOf(await write(DELETE_TASK, { id: task.id, v: 0 }));
    assert.equal(stale.extensions?.code, 'CONFLICT');
    assert.equal(stale.extensions?.expectedVersion, 0);
    assert.equal(stale.extensions?.actualVersion, 1);
    assert.ok(await query(leader, GET_TASK, 'task', { id: task.id }));

    assert.equal(await written<boolean>(DELETE_TASK, 'deleteTask', { id: task.id, v: 1 }), true);
    assert.equal(await query(leader, GET_TASK, 'task', { id: task.id }), null);
    for (const r of [
      await write(DELETE_TASK, { id: task.id }),
      await write(UPDATE_TASK, { id: task.id, input: { title: 'ghost' } }),
      await write(DELETE_TASK, { id: '00000000-0000-4000-8000-000000000000' }),
    ]) {
      assert.equal(errorOf(r).extensions?.code, 'NOT_FOUND');
    }
    const stream = (await allEvents(leader)).filter((e) => e.stream === `task-${task.id}`);
    assert.deepEqual(
      stream.map((e) => [e.type, e.version]),
      [
        ['TaskCreated', 1],
        ['TaskDeleted', 2],
      ],
    );
    deletedId = task.id;
  });

  test('a repeated update or delete with the same Idempotency-Key answers as the first and appends nothing', async () => {
    const task = await createTask({ title: 'retried' });
    const key = { ...AUTH, 'idempotency-key': `retry-${task.id}` };
    const vars = { id: task.id, input: { status: 'IN_PROGRESS' }, v: 1 };
    const first = dataOf<TaskView>(await gql(leader, UPDATE_TASK, vars, key), 'updateTask');
    // The repeat carries the same expectedVersion, now stale: it must not be a CONFLICT.
    const again = dataOf<TaskView>(await gql(leader, UPDATE_TASK, vars, key), 'updateTask');
    assert.deepEqual(again, first);
    assert.equal(first.version, 2);
    const delKey = { ...AUTH, 'idempotency-key': `delete-${task.id}` };
    assert.equal(dataOf(await gql(leader, DELETE_TASK, { id: task.id, v: 2 }, delKey), 'deleteTask'), true);
    assert.equal(dataOf(await gql(leader, DELETE_TASK, { id: task.id, v: 2 }, delKey), 'deleteTask'), true);
    const stream = (await allEvents(leader)).filter((e) => e.stream === `task-${task.id}`);
    assert.deepEqual(
      stream.map((e) => e.type),
      ['TaskCreated', 'TaskUpdated', 'TaskDeleted'],
    );
  });

  test('tasks: status filter and Relay pagination over the live tasks', async () => {
    const statuses = ['TODO', 'DONE', 'TODO', 'IN_PROGRESS', 'DONE', 'TODO', 'DONE'];
    for (const [i, status] of statuses.entries()) {
      const t = await createTask({ title: `page task ${i}`, status });
      live.set(t.id, t);
    }
    const expected = [...live.values()].sort(byCreation);
    assert.equal(expected.length, 10);

    const all = await allPages<TaskView>(leader, TASKS, 'tasks', {}, 3);
    assert.deepEqual(all.nodes, expected);
    assert.deepEqual(
      all.pages.map((p) => [p.edges.length, p.pageInfo.hasNextPage]),
      [
        [3, true],
        [3, true],
        [3, true],
        [1, false],
      ],
    );
    for (const p of all.pages) assert.equal(p.pageInfo.endCursor, p.edges.at(-1)?.cursor);

    for (const status of ['TODO', 'IN_PROGRESS', 'DONE']) {
      const filtered = await allPages<TaskView>(leader, TASKS, 'tasks', { status }, 2);
      assert.deepEqual(
        filtered.nodes,
        expected.filter((t) => t.status === status),
        status,
      );
      assert.equal(filtered.pages.at(-1)?.pageInfo.hasNextPage, false);
    }
    // An exact fit: the page holding the last task says there is no next one.
    const exact = await query<Connection<TaskView>>(leader, TASKS, 'tasks', { first: expected.length });
    assert.equal(exact.pageInfo.hasNextPage, false);
    assert.equal(exact.edges.length, expected.length);
    const bad = await gql(leader, TASKS, { after: 'not-a-cursor' });
    assert.equal(errorOf(bad).extensions?.code, 'BAD_USER_INPUT');
  });

  test('upsertListing: new is version 1, the same again changes nothing, a new price is version 2', async () => {
    const lamp = {
      title: 'Desk lamp',
      url: 'https://shop.example/lamp',
      price: 20,
      currency: 'USD',
      priceEur: 18.5,
      scrapedAt: '2025-01-01T10:00:00.000Z',
    };
    const added = await written<ListingView>(UPSERT_LISTING, 'upsertListing', { input: lamp });
    assert.deepEqual({ ...added, id: undefined }, { ...lamp, id: undefined, version: 1 });
    const events = await allEvents(leader);
    const same = await written<ListingView>(UPSERT_LISTING, 'upsertListing', {
      input: { ...lamp, scrapedAt: '2025-01-02T10:00:00.000Z' },
    });
    assert.deepEqual(same, added, 'unchanged values: same listing, same version');
    assert.deepEqual(await allEvents(leader), events, 'and no event');

    const changed = await written<ListingView>(UPSERT_LISTING, 'upsertListing', {
      input: { ...lamp, price: 25, priceEur: 23, scrapedAt: '2025-01-03T10:00:00.000Z' },
    });
    assert.deepEqual(
      [changed.id, changed.price, changed.priceEur, changed.version, changed.scrapedAt],
      [added.id, 25, 23, 2, '2025-01-03T10:00:00.000Z'],
    );
    for (const [name, priceEur] of [
      ['chair', 10],
      ['table', 50],
      ['sofa', 100],
    ] as const) {
      const l = await written<ListingView>(UPSERT_LISTING, 'upsertListing', {
        input: { ...lamp, title: name, url: `https://shop.example/${name}`, price: priceEur, priceEur },
      });
      assert.equal(l.version, 1);
    }
    const prices = async (min?: number, max?: number) =>
      (await allListings(leader, min, max)).map((l) => l.priceEur).sort((a, b) => a - b);
    assert.deepEqual(await prices(), [10, 23, 50, 100]);
    assert.deepEqual(await prices(23, 50), [23, 50], 'bounds are inclusive');
    assert.deepEqual(await prices(23.01, 49.99), []);
    assert.deepEqual(await prices(undefined, 23), [10, 23]);
    assert.deepEqual(await prices(50), [50, 100]);
    const paged = await allPages<ListingView>(leader, LISTINGS, 'listings', { min: 10 }, 3);
    assert.deepEqual(
      paged.pages.map((p) => [p.edges.length, p.pageInfo.hasNextPage]),
      [
        [3, true],
        [1, false],
      ],
    );
    const bad = await gql(leader, LISTINGS, { min: 50, max: 10 });
    assert.equal(errorOf(bad).extensions?.code, 'BAD_USER_INPUT');
  });

  const listingsFile = [
    {
      title: 'Bookshelf',
      url: 'https://shop.example/bookshelf',
      price: 5,
      currency: 'EUR',
      priceEur: 5,
      scrapedAt: '2025-02-01T08:00:00Z',
    },
    {
      title: 'Armchair',
      url: 'https://shop.example/armchair',
      price: 65,
      currency: 'USD',
      priceEur: 60,
      scrapedAt: '2025-02-01T08:00:00Z',
    },
    {
      title: 'Wardrobe',
      url: 'https://shop.example/wardrobe',
      price: 200,
      currency: 'EUR',
      priceEur: 200,
      scrapedAt: '2025-02-01T08:00:00Z',
    },
  ];
  const fileBytes = Buffer.from(JSON.stringify(listingsFile, null, 2));
  let stored: FileView;

  test('uploadFile: a listings file is stored once per sha256 and its listings imported', async () => {
    const before = await allEvents(leader);
    stored = dataOf<FileView>(await upload(leader, fileBytes, 'listings.json'), 'uploadFile');
    assert.deepEqual(
      [stored.name, stored.size, stored.sha256, stored.importedListings],
      ['listings.json', fileBytes.length, sha256(fileBytes), 3],
    );
    const added = (await allEvents(leader)).slice(before.length);
    assert.deepEqual(added.map((e) => e.type).sort(), [
      'FileStored',
      'ListingAdded',
      'ListingAdded',
      'ListingAdded',
    ]);
    const imported = await allListings(leader, 5, 5);
    assert.deepEqual(
      imported.map((l) => [l.title, l.url, l.version]),
      [['Bookshelf', 'https://shop.example/bookshelf', 1]],
    );
    assert.deepEqual((await allListings(leader, 60)).map((l) => l.title).sort(), [
      'Armchair',
      'Wardrobe',
      'sofa',
    ]);
    assert.deepEqual(await query(leader, FILES, 'files'), [stored]);

    const events = await allEvents(leader);
    const again = dataOf<FileView>(await upload(leader, fileBytes, 'renamed.json'), 'uploadFile');
    assert.deepEqual(again, stored, 'the same bytes are the same stored file');
    assert.deepEqual(await allEvents(leader), events, 'no new events');
    assert.deepEqual(await query(leader, FILES, 'files'), [stored]);
  });

  test('uploadFile: an invalid .json listings file is BAD_USER_INPUT and stores nothing', async () => {
    const events = await allEvents(leader);
    const invalid = [
      Buffer.from('this is not json'),
      Buffer.from(JSON.stringify({ not: 'an array' })),
      Buffer.from(JSON.stringify([{ ...listingsFile[0], url: 'https://shop.example/new' }, { title: 'x' }])),
      Buffer.from(JSON.stringify([{ ...listingsFile[0], currency: 'euro' }])),
    ];
    for (const bytes of invalid) {
      const r = await upload(leader, bytes, 'broken.json');
      assert.equal(errorOf(r).extensions?.code, 'BAD_USER_INPUT', bytes.toString());
    }
    assert.deepEqual(await query(leader, FILES, 'files'), [stored], 'files unchanged');
    assert.deepEqual(await allEvents(leader), events, 'events unchanged');
    assert.equal((await allListings(leader)).length, 7);
  });

  test('upsertListings: each listing decided as upsertListing would, the whole batch in one go', async () => {
    const base = { price: 10, currency: 'EUR', priceEur: 10, scrapedAt: '2025-03-01T10:00:00.000Z' };
    const a = { ...base, title: 'Batch A', url: 'https://shop.example/batch/a' };
    const b = { ...base, title: 'Batch B', url: 'https://shop.example/batch/b' };
    const a2 = { ...a, price: 12, priceEur: 12, scrapedAt: '2025-03-01T11:00:00.000Z' };
    const events = await allEvents(leader);
    const vars = { inputs: [a, b, a2], keys: ['batch-1', 'batch-2', 'batch-3'] };
    const first = await written<ListingView[]>(UPSERT_LISTINGS, 'upsertListings', vars);
    // The second listing of a's url is decided on top of the first, in the same request.
    assert.deepEqual(
      first.map((l) => [l.title, l.url, l.price, l.version, l.scrapedAt]),
      [
        ['Batch A', a.url, 10, 1, a.scrapedAt],
        ['Batch B', b.url, 10, 1, b.scrapedAt],
        ['Batch A', a.url, 12, 2, a2.scrapedAt],
      ],
    );
    const added = (await allEvents(leader)).slice(events.length);
    assert.deepEqual(
      added.map((e) => e.type),
      ['ListingAdded', 'ListingAdded', 'ListingChanged'],
    );

    // A repeat with the same keys answers as the first time and writes nothing.
    const after = await allEvents(leader);
    assert.deepEqual(await written<ListingView[]>(UPSERT_LISTINGS, 'upsertListings', vars), first);
    // Unchanged values (no key): no event; a stale observation cannot roll a price back.
    const same = await written<ListingView[]>(UPSERT_LISTINGS, 'upsertListings', {
      inputs: [{ ...b, scrapedAt: '2025-03-02T10:00:00.000Z' }, a],
    });
    assert.deepEqual(
      same.map((l) => [l.title, l.price, l.version]),
      [
        ['Batch B', 10, 1],
        ['Batch A', 12, 2],
      ],
    );
    // One invalid listing refuses the request, and nothing of it is stored.
    const bad = await write(UPSERT_LISTINGS, {
      inputs: [
        { ...b, title: 'Batch B renamed' },
        { ...a, url: 'ftp://shop.example/nope' },
      ],
    });
    assert.equal(errorOf(bad).extensions?.code, 'BAD_USER_INPUT');
    assert.deepEqual(await allEvents(leader), after);
    const stored = (await allListings(leader)).filter((l) => l.url.includes('/batch/'));
    assert.deepEqual(stored.map((l) => [l.title, l.price, l.version]).sort(), [
      ['Batch A', 12, 2],
      ['Batch B', 10, 1],
    ]);
  });

  test('every follower answers the same reads, and its own view of the cluster', async () => {
    const expected = {
      tasks: await allTasks(leader),
      done: await allTasks(leader, 'DONE'),
      listings: await allListings(leader),
      cheap: await allListings(leader, 0, 20),
      files: await query<FileView[]>(leader, FILES, 'files'),
      events: await allEvents(leader),
    };
    assert.equal(expected.tasks.length, 10);
    const someTask = expected.tasks[3] as TaskView;
    for (const follower of followers()) {
      assert.deepEqual(
        {
          tasks: await allTasks(follower),
          done: await allTasks(follower, 'DONE'),
          listings: await allListings(follower),
          cheap: await allListings(follower, 0, 20),
          files: await query<FileView[]>(follower, FILES, 'files'),
          events: await allEvents(follower),
        },
        expected,
        follower,
      );
      assert.deepEqual(await query(follower, GET_TASK, 'task', { id: someTask.id }), someTask);
      assert.equal(await query(follower, GET_TASK, 'task', { id: deletedId }), null);

      const cluster = await query<{
        term: number;
        leader: NodeInfoView;
        self: NodeInfoView;
        nodes: NodeInfoView[];
      }>(follower, CLUSTER, 'cluster');
      assert.equal(cluster.term, term);
      assert.deepEqual(cluster.leader, { id: leader, url: c.url(leader), role: 'LEADER', term });
      assert.deepEqual(cluster.self, { id: follower, url: c.url(follower), role: 'FOLLOWER', term });
      assert.deepEqual(
        cluster.nodes.map((n) => [n.id, n.url, n.role]),
        c.ids.map((id) => [id, c.url(id), id === leader ? 'LEADER' : 'FOLLOWER']),
      );
    }
    const own = await query<{ self: NodeInfoView; leader: NodeInfoView }>(leader, CLUSTER, 'cluster');
    assert.deepEqual(own.self, own.leader);
    assert.equal(own.self.id, leader);
  });

  test('events subscription on a follower: every event of 20 writes on the leader, in order', async () => {
    const follower = followers()[0] as string;
    const client = wsClient(follower);
    const head = (await allEvents(leader)).at(-1)?.position ?? 0;
    const SUB = `subscription ($after: Int) { events(afterPosition: $after) { ${EVENT} } }`;
    const fromHead = client.iterate({ query: SUB, variables: { after: head } });
    // The contract's form, from now on: it may start a little later but must not skip or repeat.
    const live2 = client.iterate({ query: `subscription { events { ${EVENT} } }` });
    // From `head`, not "from now": a "from now" feed reads the log's head in the database when it
    // starts, which the barrier below does not wait for, so it may begin after the first write.
    const taskOnly = client.iterate({
      query: `subscription ($s: String, $after: Int) { events(stream: $s, afterPosition: $after) { ${EVENT} } }`,
      variables: { s: `task-${someLiveTask().id}`, after: head },
    });
    await barrier(client);

    const target = someLiveTask();
    let version = target.version;
    for (let i = 0; i < 20; i++) {
      if (i % 4 === 0) {
        const t = await written<TaskView>(UPDATE_TASK, 'updateTask', {
          id: target.id,
          input: { title: `renamed ${i}` },
          v: version,
        });
        version = t.version;
        live.set(t.id, t);
      } else if (i % 4 === 1) {
        await written(UPSERT_LISTING, 'upsertListing', {
          input: {
            title: `feed ${i}`,
            url: `https://shop.example/feed-${i}`,
            price: i,
            currency: 'EUR',
            priceEur: i,
            scrapedAt: '2025-03-01T00:00:00Z',
          },
        });
      } else {
        const t = await createTask({ title: `feed task ${i}` });
        live.set(t.id, t);
      }
    }
    const expected = await allEvents(leader, head);
    assert.equal(expected.length, 20);
    assert.deepEqual(
      expected.map((e) => e.position),
      expected.map((_, i) => head + 1 + i),
      'the log has no gaps',
    );

    const got: EventView[] = [];
    for (const _ of expected) got.push(await nextOf<EventView>(fromHead, 'events', 'an event'));
    assert.deepEqual(got, expected);

    // The "from now on" feed: a contiguous run ending at the last event.
    const last = (expected.at(-1) as EventView).position;
    const tail: EventView[] = [];
    while (tail.at(-1)?.position !== last) tail.push(await nextOf<EventView>(live2, 'events', 'an event'));
    assert.deepEqual(tail, expected.slice(expected.length - tail.length));

    const ofTask = expected.filter((e) => e.stream === `task-${target.id}`);
    assert.equal(ofTask.length, 5);
    const gotTask: EventView[] = [];
    for (const _ of ofTask) gotTask.push(await nextOf<EventView>(taskOnly, 'events', 'a task event'));
    assert.deepEqual(gotTask, ofTask);

    await fromHead.return?.();
    await live2.return?.();
    await taskOnly.return?.();
  });

  test('SIGKILL of the leader: followers’ leaderChanged and clusterEvents report the new leader', async () => {
    const subs = followers().map((node) => {
      const client = wsClient(node);
      return {
        node,
        client,
        leaderChanged: client.iterate({
          query: `subscription { leaderChanged { term at leader { ${NODE} } } }`,
        }),
        clusterEvents: client.iterate({
          query: 'subscription { clusterEvents { nodeId term from to reason at } }',
        }),
      };
    });
    for (const s of subs) await barrier(s.client);

    const [old, oldTerm] = [leader, term];
    const next = c.waitForLeader(term);
    await c.kill(old, 'SIGKILL');
    await next;
    // Under load a first new leader may be replaced before everyone heard of it: go by agreement.
    ({ leader, term } = await c.waitForAgreement());
    assert.notEqual(leader, old);

    type Change = { term: number; at: string; leader: NodeInfoView };
    type Transition = { nodeId: string; term: number; from: string; to: string; reason: string };
    for (const s of subs) {
      for (;;) {
        const change = await nextOf<Change>(s.leaderChanged, 'leaderChanged', `${s.node}'s leaderChanged`);
        const id = change.leader.id;
        assert.ok(change.term > oldTerm && change.term <= term, `a new term: ${change.term}`);
        assert.deepEqual(change.leader, { id, url: c.url(id), role: 'LEADER', term: change.term }, s.node);
        assert.ok(!Number.isNaN(Date.parse(change.at)));
        if (id === leader && change.term === term) break;
      }
      // Each node reports its own transitions: the new leader its win, the other one the new term.
      for (;;) {
        const e = await nextOf<Transition>(s.clusterEvents, 'clusterEvents', `${s.node}'s clusterEvents`);
        assert.equal(e.nodeId, s.node);
        if (s.node === leader && e.to === 'LEADER' && e.term === term) {
          assert.equal(e.from, 'CANDIDATE');
          break;
        }
        if (s.node !== leader && e.to === 'FOLLOWER' && e.term === term) break;
      }
      await s.leaderChanged.return?.();
      await s.clusterEvents.return?.();
    }
  });

  test('clusterEvents(since:) replays the transitions a subscriber missed, then goes on live', async () => {
    // No election happens now: what arrives is the replay of what the leader kept.
    const client = wsClient(leader);
    const replay = client.iterate({
      query: 'subscription ($since: DateTime) { clusterEvents(since: $since) { nodeId term from to at } }',
      variables: { since: new Date(0).toISOString() },
    });
    type Transition = { nodeId: string; term: number; from: string; to: string; at: string };
    const seen: Transition[] = [];
    while (!seen.some((e) => e.to === 'LEADER' && e.term === term))
      seen.push(await nextOf<Transition>(replay, 'clusterEvents', `${leader}'s kept transitions`));
    assert.ok(seen.every((e) => e.nodeId === leader));
    const times = seen.map((e) => Date.parse(e.at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'oldest first',
    );
    assert.deepEqual(seen.at(-1), { ...seen.at(-1), from: 'CANDIDATE', to: 'LEADER', term });
    // From the instant of the win on: nothing older (a transition of the same millisecond may come first).
    const win = seen.at(-1) as Transition;
    const fromWin = client.iterate({
      query: 'subscription ($since: DateTime) { clusterEvents(since: $since) { nodeId term to at } }',
      variables: { since: win.at },
    });
    for (;;) {
      const e = await nextOf<Transition>(fromWin, 'clusterEvents', 'the win');
      assert.ok(Date.parse(e.at) >= Date.parse(win.at), `${e.at} is not before ${win.at}`);
      if (e.to === 'LEADER' && e.term === term) break;
    }
    await replay.return?.();
    await fromWin.return?.();
  });

  test('after the failover, writes work on the new leader and the old data is all there', async () => {
    await claimed(leader, term);
    const tasks = [...live.values()].sort(byCreation);
    assert.deepEqual(await allTasks(leader), tasks);
    assert.equal((await allListings(leader)).length, 14);
    assert.deepEqual(await query(leader, FILES, 'files'), [stored]);

    const t = await createTask({ title: 'after the failover' }, 'after-failover');
    assert.deepEqual([t.createdBy, t.version], [leader, 1]);
    const updated = await written<TaskView>(UPDATE_TASK, 'updateTask', {
      id: someLiveTask().id,
      input: { status: 'DONE' },
    });
    assert.equal(updated.status, 'DONE');
    const tail = (await allEvents(leader)).slice(-3);
    assert.deepEqual(
      tail.map((e) => [e.type, e.term, e.nodeId]),
      [
        ['LeaderElected', term, leader],
        ['TaskCreated', term, leader],
        ['TaskUpdated', term, leader],
      ],
    );
    // The repeat of an old key still finds the task created before the failover.
    const keyed = [...live.values()].find((x) => x.title === 'keyed') as TaskView;
    assert.equal(
      (await createTask({ title: 'keyed', status: 'IN_PROGRESS' }, 'create-keyed-1')).id,
      keyed.id,
    );

    const follower = followers()[0] as string;
    const r = await gql(follower, CREATE_TASK, { input: { title: 'to the follower' } }, AUTH);
    assert.equal(errorOf(r).extensions?.code, 'NOT_LEADER');
    assert.deepEqual(errorOf(r).extensions?.leader, { id: leader, url: c.url(leader) });
    assert.equal(await query(follower, GET_TASK, 'task', { id: t.id }).then((x) => (x as TaskView).id), t.id);
  });
});
