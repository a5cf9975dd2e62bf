/**
 * Failover under load, as a client sees it: 1,000 createTask mutations from 8 concurrent clients
 * through the gateway while the leader is killed twice. Every acknowledged task must exist
 * exactly once, and the only error a client may see is NO_LEADER (a bounded retry hint, retried
 * with the same idempotency key).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type {
  FailoverTestCreateTaskMutation,
  FailoverTestCreateTaskMutationVariables,
  FailoverTestTasksQuery,
  FailoverTestTasksQueryVariables,
} from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import {
  gatewayLeader,
  gatewayUrlOf,
  type RunningStack,
  startGatewayStack,
} from '../test-support/gateway-stack.js';

const TOKEN = 'failover-test-token-0123456789';
const SECRET = 'failover-test-secret-0123456789';
const PORT = 14_700;
const GATEWAY = gatewayUrlOf(PORT);
const CLIENTS = 8;
const PER_CLIENT = 125;

let stack: RunningStack;
let c: LocalCluster;

before(async () => {
  stack = await startGatewayStack({ basePort: PORT, secret: SECRET, apiToken: TOKEN }, { name: 'failover' });
  c = stack.cluster;
});

after(() => stack?.stop());

interface Outcome {
  title: string;
  id: string;
  noLeaderRetries: number;
}

async function createOnce(client: number, i: number, unexpected: string[]): Promise<Outcome> {
  const title = `c${client}-t${i}`;
  // Half the clients key by header, half by argument; the gateway keys nothing for them.
  const byHeader = client % 2 === 0;
  const key = `load-${title}`;
  let noLeaderRetries = 0;
  for (;;) {
    const res = await fetch(`${GATEWAY}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        ...(byHeader ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify({
        query: graphql(
          `mutation FailoverTestCreateTask($t: String!, $k: String) { createTask(input: { title: $t }, idempotencyKey: $k) { id title } }`,
        ),
        variables: { t: title, k: byHeader ? null : key } satisfies FailoverTestCreateTaskMutationVariables,
      }),
    });
    const body = (await res.json()) as {
      data?: FailoverTestCreateTaskMutation | null;
      errors?: Array<{ message: string; extensions?: { code?: string; retryAfterMs?: number } }>;
    };
    const error = body.errors?.[0];
    if (!error && body.data?.createTask) return { title, id: body.data.createTask.id, noLeaderRetries };
    if (error?.extensions?.code === 'NO_LEADER') {
      noLeaderRetries++;
      await new Promise((r) => setTimeout(r, Math.min(error.extensions?.retryAfterMs ?? 1_000, 1_000)));
      continue;
    }
    unexpected.push(`${title}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return { title, id: '', noLeaderRetries };
  }
}

test('1,000 createTask from 8 clients while the leader is killed twice: each acknowledged task exactly once', {
  timeout: 300_000,
}, async () => {
  const unexpected: string[] = [];
  const outcomes: Outcome[] = [];
  let acknowledged = 0;
  const milestones: Array<{ at: number; reached: () => void }> = [];
  const reach = (n: number) => new Promise<void>((resolve) => milestones.push({ at: n, reached: resolve }));
  const at200 = reach(200);
  const at600 = reach(600);

  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    for (let i = 0; i < PER_CLIENT; i++) {
      const outcome = await createOnce(client, i, unexpected);
      outcomes.push(outcome);
      acknowledged++;
      for (const m of milestones) if (acknowledged === m.at) m.reached();
    }
  });

  const killed: string[] = [];
  const chaos = (async () => {
    for (const milestone of [at200, at600]) {
      await milestone;
      const leader = await gatewayLeader(GATEWAY);
      await c.kill(leader.id);
      killed.push(leader.id);
      await gatewayLeader(GATEWAY, leader.term);
      const back = c.waitForReady([leader.id]);
      c.start(leader.id);
      await back;
    }
  })();

  await Promise.all([...clients, chaos]);
  assert.deepEqual(unexpected, [], 'no error other than NO_LEADER');
  assert.equal(killed.length, 2);
  assert.equal(outcomes.length, CLIENTS * PER_CLIENT);

  // Every acknowledged task exists exactly once, under the id the client was given.
  const seen = new Map<string, string[]>();
  let after: string | null = null;
  do {
    const res = await fetch(`${GATEWAY}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: graphql(
          `query FailoverTestTasks($a: String) { tasks(first: 500, after: $a) { edges { node { id title } } pageInfo { hasNextPage endCursor } } }`,
        ),
        variables: { a: after } satisfies FailoverTestTasksQueryVariables,
      }),
    });
    const body = (await res.json()) as { data: FailoverTestTasksQuery };
    for (const { node } of body.data.tasks.edges)
      seen.set(node.title, [...(seen.get(node.title) ?? []), node.id]);
    after = body.data.tasks.pageInfo.hasNextPage ? body.data.tasks.pageInfo.endCursor : null;
  } while (after);
  const doubled = [...seen].filter(([, ids]) => ids.length > 1);
  assert.deepEqual(doubled, [], 'no task stored twice');
  for (const o of outcomes)
    assert.deepEqual(seen.get(o.title), [o.id], `${o.title} stored once as acknowledged`);
  assert.equal(seen.size, CLIENTS * PER_CLIENT);
  // The writes in flight at each kill went to the survivor the moment it campaigned, which held
  // them through its election and took them (the gateway's counter of such writes).
  const metrics = await (await fetch(`${GATEWAY}/metrics`)).text();
  const taken = Number(
    /^ensemble_gateway_campaign_writes_total\{outcome="taken"\} (\d+)/m.exec(metrics)?.[1] ?? 0,
  );
  assert.ok(taken > 0, `writes taken by a campaigning node: ${taken}`);
  const retries = outcomes.reduce((n, o) => n + o.noLeaderRetries, 0);
  process.stdout.write(
    `# failover under load: ${outcomes.length} writes, leaders killed ${killed.join(', ')}, ${retries} NO_LEADER retries, ${taken} taken by a campaigning node\n`,
  );
});
