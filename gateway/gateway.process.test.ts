/**
 * The gateway in front of a real 3-node cluster (real processes, embedded PostgreSQL): leader
 * announcements, routing of queries and writes, uploads, the gateway's own `cluster`, the
 * merged and passed-through subscriptions, and a failover seen from a client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ANNOUNCE_PATH, SIGNATURE_HEADER, signBody } from '../common/announcement.js';
import { HEALTHZ_PATH, parseNodeHealth } from '../common/node-health.js';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import type { TypedDocumentString } from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import { gatewayCluster, gatewayProcess, gatewayUrlOf, startGateway } from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const TOKEN = 'gateway-test-token-0123456789';
const SECRET = 'gateway-test-secret-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PORT = 14_500;
const GATEWAY = gatewayUrlOf(PORT);

/** A node as the gateway's /healthz shows it. */
interface GatewayNodeView {
  readonly url: string;
  readonly healthy: boolean;
  readonly role: string | null;
  readonly problem: string | null;
}

interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

let pg: TestPostgres;
let c: LocalCluster;
let gateway: ServiceProcess;
const gatewayLog: ServiceRecord[] = [];
const clients: Client[] = [];

const CREATE_TASK = graphql(
  `mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }`,
);

async function gql<T, V>(
  query: TypedDocumentString<T, V>,
  variables?: V,
  headers: Record<string, string> = {},
  url = GATEWAY,
): Promise<GqlResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables: variables ?? {} }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GqlResponse<T>, 'status'>) };
}

function dataOf<T, K extends keyof T>(r: GqlResponse<T>, field: K): T[K] {
  assert.equal(r.errors, undefined, `unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.data?.[field] as T[K];
}

async function healthz(): Promise<{ status: number; body: { leader: { id: string; term: number } | null } }> {
  const res = await fetch(`${GATEWAY}/healthz`);
  return { status: res.status, body: (await res.json()) as { leader: { id: string; term: number } | null } };
}

/**
 * Resolves when the gateway has accepted a leader above `aboveTerm`, now or before: its term only
 * grows, and a caller that just read `aboveTerm` from /healthz may get the record before the answer.
 */
const leaderAnnounced = (aboveTerm = 0, timeoutMs = 20_000) =>
  gateway.waitFor(
    (r) =>
      (r.msg === 'leader announced' || r.msg === 'leader found by health check') &&
      Number(r.term) > aboveTerm,
    timeoutMs,
    `a leader above term ${aboveTerm}`,
    { past: true },
  );

function wsClient(): Client {
  const client = createClient({
    url: `ws://127.0.0.1:${PORT}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
  });
  clients.push(client);
  return client;
}

/** Collects a subscription's data into an array; `until` resolves once `n` items arrived. */
function collect<R, V, F extends keyof R & string>(
  client: Client,
  query: TypedDocumentString<R, V>,
  field: F,
  variables?: V,
) {
  type T = R[F];
  const items: T[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const unsubscribe = client.subscribe<Record<string, T>>(
    { query: String(query), variables: variables ?? {} },
    {
      next: (r) => {
        if (r.data?.[field]) items.push(r.data[field] as T);
        for (const w of [...waiters]) if (items.length >= w.n) w.resolve();
      },
      error: (e) => assert.fail(`subscription failed: ${JSON.stringify(e)}`),
      complete: () => {},
    },
  );
  const until = (n: number, predicate?: (items: T[]) => boolean, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${field}: ${items.length} of ${n} after ${timeoutMs} ms: ${JSON.stringify(items)}`),
          ),
        timeoutMs,
      );
      const check = () => {
        if (items.length >= n && (!predicate || predicate(items))) {
          clearTimeout(timer);
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = { n, resolve: () => check() && waiters.splice(waiters.indexOf(waiter), 1) };
      waiters.push(waiter);
    });
  return { items, until, unsubscribe };
}

/** Resolves once the gateway's clusterEvents feed on each of these nodes is connected. */
async function clusterFeedsConnected(urls: readonly string[]): Promise<void> {
  const connected = () => {
    const last = new Map<string, string>();
    for (const r of gatewayLog) if (r.msg.startsWith('clusterEvents feed')) last.set(r.node as string, r.msg);
    return urls.every((url) => last.get(url) === 'clusterEvents feed connected');
  };
  while (!connected())
    await gateway.waitFor((r) => r.msg.startsWith('clusterEvents feed'), 30_000, 'clusterEvents feeds');
}

async function currentLeader(): Promise<{ id: string; term: number }> {
  const h = await healthz();
  assert.ok(h.body.leader, 'the gateway knows a leader');
  return h.body.leader;
}

before(async () => {
  pg = await startTestPostgres();
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  gateway = gatewayProcess(stack, {
    env: { LEADER_WAIT_MS: '3000', LOG_LEVEL: 'info' },
    onRecord: (r) => {
      gatewayLog.push(r);
      if (r.level >= 40) process.stderr.write(`[gateway] ${JSON.stringify(r)}\n`);
    },
  });
  await startGateway(gateway);
  c = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-gateway-')),
    databaseUrl: await pg.createDatabase('gateway'),
    onRecord: (r) => {
      if (r.level >= 50) process.stderr.write(`[${r.node}] ${JSON.stringify(r)}\n`);
    },
  });
});

after(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await gateway?.stop();
  await c?.stopAll();
  await pg?.stop();
});

describe('the gateway in front of a 3-node cluster', { timeout: 180_000 }, () => {
  test('before any leader: /healthz is 503 and a write waits, then is NO_LEADER', async () => {
    const h = await healthz();
    assert.equal(h.status, 503);
    assert.equal(h.body.leader, null);
    const started = Date.now();
    const res = await fetch(`${GATEWAY}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify({
        query: graphql(`mutation GatewayTestTooEarly { createTask(input: { title: "too early" }) { id } }`),
      }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as GqlResponse;
    assert.equal(body.errors?.[0]?.extensions?.code, 'NO_LEADER');
    assert.ok(Date.now() - started >= 2_900, 'it waited LEADER_WAIT_MS for a leader first');
  });

  test('a lone node stays in PreVote: the gateway counts it healthy and sends it reads', async () => {
    // Alone of three it cannot win an election, so it stays in PreVote; it still serves reads.
    const [lone] = c.ids as [string];
    const preVote = c.waitFor((r) => r.node === lone && r.to === 'pre-candidate', 20_000, 'a PreVote round');
    c.start(lone);
    await c.waitForReady([lone], 30_000);
    await preVote;
    // The gateway's /healthz says how it sees each node, and why it counts one unhealthy.
    const url = c.url(lone);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const body = (await (await fetch(`${GATEWAY}${HEALTHZ_PATH}`)).json()) as { nodes: GatewayNodeView[] };
      const seen = body.nodes.find((n) => n.url === url);
      if (seen?.healthy && seen.role === 'pre-candidate') break;
      if (Date.now() > deadline) assert.fail(`the gateway sees ${lone} as ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // A read through the gateway reaches it (with no healthy node it would be SERVICE_UNAVAILABLE).
    const res = await gql(
      graphql(
        `query GatewayTestPreVoteReads { tasks(first: 1) { edges { cursor } } cluster { nodes { id role term } } }`,
      ),
    );
    assert.deepEqual(dataOf(res, 'tasks').edges, []);
    const health = parseNodeHealth(await (await fetch(`${url}${HEALTHZ_PATH}`)).json());
    assert.ok(health.ok, health.ok ? '' : health.problem);
    assert.equal(health.health.role, 'pre-candidate', 'it is still in PreVote');
    // In the contract's roles a node campaigning in PreVote is a CANDIDATE, as the node itself says.
    assert.deepEqual(dataOf(res, 'cluster').nodes, [
      { id: lone, role: 'CANDIDATE', term: health.health.term },
    ]);
  });

  test('a leader is elected and announced; /healthz names it', async () => {
    const announced = leaderAnnounced();
    for (const id of c.ids) if (!c.isRunning(id)) c.start(id);
    await announced;
    const { leader } = await c.waitForAgreement(30_000);
    await c.waitForReady();
    const h = await healthz();
    assert.equal(h.status, 200);
    assert.equal(h.body.leader?.id, leader);
  });

  test('unsigned, forged, foreign and stale announcements are refused', async () => {
    const known = await currentLeader();
    const post = (body: string, signature?: string) =>
      fetch(`${GATEWAY}${ANNOUNCE_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signature ? { [SIGNATURE_HEADER]: signature } : {}),
        },
        body,
      });
    const body = (term: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        clusterId: 'ensemble',
        nodeId: 'n9',
        url: 'http://127.0.0.1:1',
        term,
        at: new Date().toISOString(),
        ...extra,
      });
    assert.equal((await post(body(known.term + 5))).status, 401);
    assert.equal(
      (await post(body(known.term + 5), signBody('not-the-secret-0123456789', body(known.term + 5)))).status,
      401,
    );
    const foreign = body(known.term + 5, { clusterId: 'other' });
    assert.equal((await post(foreign, signBody(SECRET, foreign))).status, 401);
    const old = body(Math.max(1, known.term - 1));
    const stale = await post(old, signBody(SECRET, old));
    assert.equal(stale.status, 409);
    assert.deepEqual((await currentLeader()).id, known.id, 'the known leader stays');
    assert.ok(
      gatewayLog.some((r) => r.msg === 'refused a leader announcement' && r.reason === 'bad signature'),
    );
  });

  test('writes go to the leader and reads to any node; the token is checked at the gateway', async () => {
    const created = dataOf(await gql(CREATE_TASK, { t: 'via gateway' }, AUTH), 'createTask');
    assert.equal(created.version, 1);
    const denied = await gql(
      graphql(`mutation GatewayTestNoToken { createTask(input: { title: "no token" }) { id } }`),
    );
    assert.equal(denied.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    // Every node answers the same read; the gateway's answer equals each of them.
    for (let i = 0; i < 6; i++) {
      const task = dataOf(
        await gql(graphql(`query GatewayTestTaskTitle($id: ID!) { task(id: $id) { title } }`), {
          id: created.id,
        }),
        'task',
      );
      assert.equal(task?.title, 'via gateway');
    }
    const bad = await gql(
      graphql(`mutation GatewayTestEmptyTitle { createTask(input: { title: "" }) { id } }`),
      {},
      AUTH,
    );
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('concurrent requests travel to the nodes in batches; each client gets its own answer', async () => {
    const counter = async (name: string) =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${GATEWAY}/metrics`)).text())?.[1]);
    const batchesBefore = await counter('ensemble_gateway_batches_total');
    const titles = Array.from({ length: 24 }, (_, i) => `batched ${i}`);
    // Writes with and without a token in the same batch: each is judged on its own.
    const [writes, anonymous] = await Promise.all([
      Promise.all(titles.map((t) => gql(CREATE_TASK, { t }, AUTH))),
      gql(graphql(`mutation GatewayTestBatchNoToken { createTask(input: { title: "none" }) { id } }`)),
    ]);
    const created = writes.map((w) => dataOf(w, 'createTask'));
    assert.deepEqual(
      created.map((t) => t.title),
      titles,
    );
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const reads = await Promise.all(
      created.map((t) =>
        gql(graphql(`query GatewayTestBatchedRead($id: ID!) { task(id: $id) { id title } }`), { id: t.id }),
      ),
    );
    assert.deepEqual(
      reads.map((r) => dataOf(r, 'task')),
      created.map((t) => ({ id: t.id, title: t.title })),
    );
    assert.ok((await counter('ensemble_gateway_batches_total')) > batchesBefore, 'some went as batches');
    assert.ok((await counter('ensemble_gateway_batched_requests_total')) >= 2);
  });

  test('cluster is the gateway’s own view (self is null); mixed and aliased operations work', async () => {
    const leader = await currentLeader();
    const r = await gql(
      graphql(`query GatewayTestMixed { view: cluster { term self { id } leader { id role } nodes { id role } }
        some: tasks(first: 2) { edges { n: node { t: title } } } }`),
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const view = r.data?.view;
    assert.ok(view);
    assert.equal(view.self, null);
    assert.deepEqual(view.leader, { id: leader.id, role: 'LEADER' });
    assert.deepEqual(
      view.nodes.map((n) => n.id),
      ['n1', 'n2', 'n3'],
    );
    const some = r.data?.some;
    assert.ok(some && some.edges.length >= 1);
    assert.equal(typeof some.edges[0]?.n.t, 'string');
  });

  test('an upload is re-streamed to the leader as multipart; without the preflight header it is refused', async () => {
    const listings = [
      {
        title: 'Gateway lamp',
        url: 'https://shop.example/gw-lamp',
        price: 390,
        currency: 'MDL',
        priceEur: 20,
        scrapedAt: '2026-11-24T10:00:00Z',
      },
    ];
    const bytes = Buffer.from(JSON.stringify(listings));
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: graphql(
          `mutation GatewayTestUpload($f: Upload!) { uploadFile(file: $f) { name size importedListings } }`,
        ),
        variables: { f: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob([bytes], { type: 'application/json' }), 'latest.json');
    const refused = await fetch(`${GATEWAY}/graphql`, { method: 'POST', headers: AUTH, body: form });
    assert.equal(refused.status, 400);
    const res = await fetch(`${GATEWAY}/graphql`, {
      method: 'POST',
      headers: { ...AUTH, 'apollo-require-preflight': 'true' },
      body: form,
    });
    const body = (await res.json()) as GqlResponse;
    assert.deepEqual(body.errors, undefined);
    assert.deepEqual(body.data?.uploadFile, { name: 'latest.json', size: bytes.length, importedListings: 1 });
  });

  test('a retried write with the same Idempotency-Key is stored once', async () => {
    const headers = { ...AUTH, 'idempotency-key': 'client-key-1' };
    const q = graphql(`mutation GatewayTestKeyedOnce { createTask(input: { title: "keyed once" }) { id } }`);
    const first = dataOf(await gql(q, {}, headers), 'createTask');
    const second = dataOf(await gql(q, {}, headers), 'createTask');
    assert.equal(second.id, first.id);
  });

  test('a leader paused (SIGSTOP): a write in flight to it goes to the new leader once one is announced', async () => {
    const agreed = await c.waitForAgreement(30_000);
    let before = await currentLeader();
    while (before.id !== agreed.leader || before.term !== agreed.term) {
      await leaderAnnounced(before.term);
      before = await currentLeader();
    }
    const announced = leaderAnnounced(before.term);
    const create = graphql(
      `mutation GatewayTestWhilePaused { createTask(input: { title: "while paused" }) { id createdBy } }`,
    );
    const headers = { ...AUTH, 'idempotency-key': 'while-paused-1' };
    c.signal(before.id, 'SIGSTOP');
    try {
      // Sent while the gateway still knows the paused node as leader: it hangs there…
      const write = gql(create, {}, headers);
      await announced;
      // …until the announcement, not until the node's timeout (15 s) or its waking up.
      const settled = await Promise.race([
        write,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 8_000)),
      ]);
      assert.ok(settled, 'the write was answered while the old leader is still paused');
      const task = dataOf(settled, 'createTask');
      assert.notEqual(task.createdBy, before.id);
    } finally {
      c.signal(before.id, 'SIGCONT');
    }
    await c.waitForAgreement(30_000);
    // The woken node's fence refused what it still had; the key answers with the first result.
    const again = dataOf(await gql(create, {}, headers), 'createTask');
    const events = dataOf(
      await gql(graphql(`query GatewayTestPausedEvents { events(first: 500) { type data } }`)),
      'events',
    );
    const created = events.filter(
      (e) => e.type === 'TaskCreated' && (e.data as { title?: string }).title === 'while paused',
    );
    assert.equal(created.length, 1, 'stored once');
    assert.equal((created[0]?.data as { id?: string } | undefined)?.id, again.id);
  });

  test('a leader killed: leaderChanged and merged clusterEvents stream it, events resume on another node', async () => {
    const client = wsClient();
    const leaders = collect(
      client,
      graphql(`subscription GatewayTestLeaderChanged { leaderChanged { term leader { id } } }`),
      'leaderChanged',
    );
    const transitions = collect(
      client,
      graphql(`subscription GatewayTestClusterEvents { clusterEvents { nodeId to term } }`),
      'clusterEvents',
    );
    const head = dataOf(await gql(graphql(`query GatewayTestHead { headPosition }`)), 'headPosition');
    assert.ok(head > 0);
    const events = collect(
      client,
      graphql(
        `subscription GatewayTestEvents($after: Int) { events(afterPosition: $after) { position type } }`,
      ),
      'events',
      { after: head },
    );
    // The leader every node follows (under load an election may have happened since the last
    // test), once the gateway knows it too.
    const agreed = await c.waitForAgreement(30_000);
    const isAgreed = (l: { id: string; term: number }) => l.id === agreed.leader && l.term === agreed.term;
    let before = await currentLeader();
    while (!isAgreed(before)) {
      await leaderAnnounced(before.term);
      before = await currentLeader();
    }
    // Transitions are not replayed: the merge can only carry those of feeds that are connected.
    await clusterFeedsConnected(c.ids.filter((id) => id !== before.id).map((id) => c.url(id)));
    await gql(CREATE_TASK, { t: 'feed probe' }, AUTH);
    await events.until(1);
    assert.equal(events.items[0]?.position, head + 1);
    const announced = leaderAnnounced(before.term);
    await c.kill(before.id);
    await announced;
    await leaders.until(1, (items) => items.some((l) => l.term > before.term));
    const after = await currentLeader();
    assert.notEqual(after.id, before.id);
    // The merged feed carries the new leader's own transition (from that node's feed).
    await transitions
      .until(1, (items) => items.some((e) => e.to === 'LEADER' && e.term > before.term))
      .catch((error) => {
        const feeds = gatewayLog.filter((r) => r.msg.includes('feed'));
        throw new Error(`${(error as Error).message}; the gateway's feed records: ${JSON.stringify(feeds)}`);
      });
    // Writes through the gateway land on the new leader, and the events feed carries on in order.
    for (let i = 0; i < 5; i++) await gql(CREATE_TASK, { t: `after failover ${i}` }, AUTH);
    await events.until(6);
    const positions = events.items.map((e) => e.position);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'in order',
    );
    assert.equal(new Set(positions).size, positions.length, 'no repeats');
    assert.equal(positions.at(-1), (positions[0] ?? 0) + positions.length - 1, 'no gaps');
    const startWaiter = c.waitForReady([before.id]);
    c.start(before.id);
    await startWaiter;

    // Now kill whichever node serves the gateway's events feed: the feed resumes elsewhere.
    const feedNode = gatewayLog.findLast((r) => r.msg === 'events feed on node')?.node as string;
    const victim = c.ids.find((id) => c.url(id) === feedNode) as string;
    assert.ok(victim, `the feed's node ${feedNode}`);
    const term = (await currentLeader()).term;
    const resumed = gateway.waitFor(
      (r) => r.msg === 'events feed on node' && r.node !== feedNode,
      20_000,
      'resume',
    );
    await c.kill(victim);
    await resumed;
    if (victim === (await currentLeader()).id) await leaderAnnounced(term);
    for (let i = 0; i < 3; i++) await gql(CREATE_TASK, { t: `after resume ${i}` }, AUTH);
    await events.until(9);
    const all = events.items.map((e) => e.position);
    assert.deepEqual(
      all,
      Array.from({ length: all.length }, (_, i) => head + 1 + i),
      'contiguous, no repeats',
    );
    const back = c.waitForReady([victim]);
    c.start(victim);
    await back;
  });

  test('/metrics counts routed requests, retries and the leader term; drops by reason', async () => {
    const res = await fetch(`${GATEWAY}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /ensemble_gateway_requests_total\{kind="mutation",outcome="ok"\} \d+/);
    const term = Number(/ensemble_gateway_leader_term (\d+)/.exec(text)?.[1]);
    assert.equal(term, (await currentLeader()).term);
    assert.match(text, /ensemble_gateway_failovers_total [1-9]/);
    assert.match(text, /ensemble_node_up\{node="n1"\} [01]/);
    // Drops by reason only (a `total` series would be summed twice); process metrics named once.
    assert.match(text, /ensemble_node_datagrams_dropped\{node="n1",reason="bad-signature"\} \d+/);
    assert.doesNotMatch(text, /reason="total"/);
    assert.match(text, /^ensemble_gateway_process_cpu_seconds_total \d/m);
    assert.doesNotMatch(text, /process_process/);
  });
});
