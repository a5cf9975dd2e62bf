/**
 * Planned leader changes against real processes (3 nodes, the gateway, PostgreSQL), under a
 * steady write load through the gateway: `transferLeadership` to a named follower, its refusals,
 * SIGTERM on the leader, which hands over before it exits, and a rolling restart. That no
 * election timeout was waited out shows in the new leader: it campaigned on TimeoutNow, in the
 * very next term. The write gaps are printed, not asserted (the machine may be busy with other
 * work; `npm run bench:transfer` measures them). The election timeout is 2-4 s here, so that a
 * slow heartbeat on a busy machine does not start an election of its own.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { LocalCluster, LogRecord } from '../launcher/local-cluster.js';
import {
  gatewayLeader,
  gatewayUrlOf,
  type RunningStack,
  startGatewayStack,
} from '../test-support/gateway-stack.js';
import { SteadyWriter } from '../test-support/steady-writer.js';

const TOKEN = 'transfer-test-token-0123456789';
const SECRET = 'transfer-test-secret-0123456789';
const PORT = 15_600;
const GATEWAY = gatewayUrlOf(PORT);
const auth = { authorization: `Bearer ${TOKEN}` };

let stack: RunningStack;
let databaseUrl: string;
let c: LocalCluster;
const records: LogRecord[] = [];

before(async () => {
  stack = await startGatewayStack(
    { basePort: PORT, secret: SECRET, apiToken: TOKEN },
    { name: 'transfer', cluster: { electionTimeoutMs: '2000-4000', onRecord: (r) => records.push(r) } },
  );
  ({ databaseUrl, cluster: c } = stack);
});

after(() => stack?.stop());

interface GraphqlAnswer {
  data?: { transferLeadership?: { term: number; leader: { id: string; url: string } } } | null;
  errors?: Array<{ message: string; extensions?: { code?: string; leader?: { id: string } } }>;
}

async function transfer(url: string, to: string | null, headers: Record<string, string> = auth) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      query: 'mutation ($to: ID) { transferLeadership(to: $to) { term leader { id url } } }',
      variables: { to },
    }),
  });
  return (await res.json()) as GraphqlAnswer;
}

/** The node that became leader in `term` campaigned on a TimeoutNow (not after a timeout). */
function campaignedOnTransfer(node: string, term: number): boolean {
  return records.some(
    (r) => r.node === node && r.term === term && r.to === 'candidate' && r.reason === 'leadership transfer',
  );
}

/**
 * Every acknowledged write is in the log exactly once, under the id it was acknowledged with,
 * and the log's terms never decrease.
 */
async function assertLoggedOnce(writer: SteadyWriter, prefix: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows: backwards } = await db.query<{ position: string }>(
      `select position from (select position, term, lag(term) over (order by position) as before from event) e
        where term < before`,
    );
    assert.deepEqual(backwards, [], "the log's terms never decrease");
    const { rows } = await db.query<{ title: string; ids: string[] }>(
      `select data ->> 'title' as title, array_agg(data ->> 'id') as ids from event
        where type = 'TaskCreated' and data ->> 'title' like $1 group by 1`,
      [`${prefix}-%`],
    );
    const logged = new Map(rows.map((r) => [r.title, r.ids]));
    assert.deepEqual(
      rows.filter((r) => r.ids.length > 1),
      [],
      'no write stored twice',
    );
    for (const ack of writer.acks)
      assert.deepEqual(logged.get(ack.title), [ack.id], `${ack.title} logged once`);
  } finally {
    await db.end();
  }
}

test('transferLeadership through the gateway moves the leader to the named follower; writes go on with no error', {
  timeout: 120_000,
}, async () => {
  const writer = new SteadyWriter({ gatewayUrl: GATEWAY, apiToken: TOKEN, prefix: 'named', clients: 4 });
  writer.start();
  try {
    await writer.more(50);
    const old = await gatewayLeader(GATEWAY);
    const target = c.ids.find((id) => id !== old.id) as string;
    const asked = performance.now();
    const answer = await transfer(GATEWAY, target);
    const answered = performance.now();
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    assert.equal(answer.data?.transferLeadership?.leader.id, target);
    assert.equal(answer.data?.transferLeadership?.term, old.term + 1);
    assert.ok(campaignedOnTransfer(target, old.term + 1), `${target} campaigned on TimeoutNow`);
    // Answered once the gateway has the announcement: it routes writes to the new leader now.
    assert.equal((await gatewayLeader(GATEWAY, old.term)).id, target);
    await writer.more(50);
    const gap = writer.longestGap(asked, answered);
    process.stdout.write(`# transfer to ${target}: longest write gap ${gap.toFixed(1)} ms\n`);
  } finally {
    await writer.stop();
  }
  assert.deepEqual(writer.refusals, [], 'no write refused');
  await assertLoggedOnce(writer, 'named');
});

test('transferLeadership refusals: an unknown node or the leader itself (BAD_USER_INPUT), no token, a follower', {
  timeout: 60_000,
}, async () => {
  const leader = await gatewayLeader(GATEWAY);
  const codeOf = (a: GraphqlAnswer) => a.errors?.[0]?.extensions?.code;
  const unknown = await transfer(GATEWAY, 'n9');
  assert.equal(codeOf(unknown), 'BAD_USER_INPUT');
  assert.match(unknown.errors?.[0]?.message ?? '', /no node n9/);
  assert.equal(codeOf(await transfer(GATEWAY, leader.id)), 'BAD_USER_INPUT');
  assert.equal(codeOf(await transfer(GATEWAY, null, {})), 'UNAUTHENTICATED');
  // A follower asked directly refuses, naming the leader (the gateway sends it there).
  const follower = c.ids.find((id) => id !== leader.id) as string;
  const onFollower = await transfer(c.url(follower), null);
  assert.equal(codeOf(onFollower), 'NOT_LEADER');
  assert.equal(onFollower.errors?.[0]?.extensions?.leader?.id, leader.id);
  assert.equal((await gatewayLeader(GATEWAY)).term, leader.term, 'no refusal changed the leader');
});

test('a leader stopped with SIGTERM lingers once handed over: not ready, writes sent to it refused NOT_LEADER naming its successor; then exit 0', {
  timeout: 60_000,
}, async () => {
  const old = await gatewayLeader(GATEWAY);
  const lingering = c.waitFor(
    (r) => r.node === old.id && r.msg.startsWith('lingering'),
    10_000,
    'the linger',
  );
  const exited = c.kill(old.id, 'SIGTERM');
  await lingering;
  const ready = await fetch(`${c.url(old.id)}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(((await ready.json()) as { missing: string[] }).missing, ['stopping']);
  const write = await fetch(`${c.url(old.id)}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'linger-write', ...auth },
    body: JSON.stringify({ query: 'mutation { createTask(input: { title: "linger-write" }) { id } }' }),
  });
  const refused = (await write.json()) as GraphqlAnswer;
  const next = await gatewayLeader(GATEWAY, old.term);
  assert.equal(refused.errors?.[0]?.extensions?.code, 'NOT_LEADER');
  assert.equal(refused.errors?.[0]?.extensions?.leader?.id, next.id, 'the refusal names the successor');
  assert.deepEqual(await exited, { code: 0, signal: null });
  const back = c.waitForReady([old.id]);
  c.start(old.id);
  await back;
  await c.waitForAgreement(30_000);
});

test('SIGTERM on the leader, 10 times under load: handed over without an election timeout, exit 0, each write once', {
  timeout: 480_000,
}, async () => {
  const writer = new SteadyWriter({ gatewayUrl: GATEWAY, apiToken: TOKEN, prefix: 'sigterm', clients: 4 });
  writer.start();
  try {
    for (let round = 0; round < 10; round++) {
      await writer.more(30);
      const old = await gatewayLeader(GATEWAY);
      const stopped = performance.now();
      const exit = await c.kill(old.id, 'SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, `${old.id} exited 0`);
      const next = await gatewayLeader(GATEWAY, old.term);
      const known = performance.now();
      assert.equal(next.term, old.term + 1, 'one term on: no election after a timeout');
      assert.ok(campaignedOnTransfer(next.id, next.term), `${next.id} campaigned on TimeoutNow`);
      await writer.more(30);
      const gap = writer.longestGap(stopped, known);
      process.stdout.write(`# SIGTERM ${old.id} → ${next.id}: longest write gap ${gap.toFixed(1)} ms\n`);
      const back = c.waitForReady([old.id]);
      c.start(old.id);
      await back;
      await c.waitForAgreement(30_000);
    }
  } finally {
    await writer.stop();
  }
  assert.deepEqual(writer.refusals, [], 'no write refused');
  await assertLoggedOnce(writer, 'sigterm');
});

test('a rolling restart under load, each node on SIGTERM in turn: every node exits 0, no write refused', {
  timeout: 240_000,
}, async () => {
  const writer = new SteadyWriter({ gatewayUrl: GATEWAY, apiToken: TOKEN, prefix: 'rolling', clients: 4 });
  writer.start();
  try {
    for (const id of c.ids) {
      await writer.more(30);
      assert.deepEqual(await c.kill(id, 'SIGTERM'), { code: 0, signal: null }, `${id} exited 0`);
      const back = c.waitForReady([id]);
      c.start(id);
      await back;
      await c.waitForAgreement(30_000);
    }
    await writer.more(30);
  } finally {
    await writer.stop();
  }
  assert.deepEqual(writer.refusals, [], 'no write refused');
  await assertLoggedOnce(writer, 'rolling');
});
