import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import { buildSchema, Query, Resolver } from 'type-graphql';
import { authChecker } from '../../api/auth.js';
import { buildEnsembleSchema } from '../../api/schema.js';
import { Cluster, DateTimeScalar, ProcessLocal, processLocalRootFields } from '../../schema/graphql/index.js';
import { createMetrics } from '../metrics.js';
import { LeaderRegistry } from '../routing/leader-registry.js';
import type { LeaderRouter } from '../routing/leader-router.js';
import type { NodeDirectory } from '../routing/node-directory.js';
import type { QueryRouter } from '../routing/query-router.js';
import { NoLeaderError, NoNodeError } from '../routing/routing-errors.js';
import { classify, graphqlProxy } from './graphql-proxy.js';

const TOKEN = 'proxy-test-token-0123456789';

interface Sent {
  readonly to: 'query' | 'leader';
  readonly body: string;
  readonly headers: Record<string, string>;
}

const sent: Sent[] = [];
/** What the routers throw instead of answering, while a test sets it. */
let failure: Error | null = null;
const answer = (to: Sent['to']) => async (body: Buffer | string, headers: Record<string, string>) => {
  if (failure) throw failure;
  sent.push({ to, body: body.toString(), headers });
  return {
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body: Buffer.from(JSON.stringify({ data: { from: to } })),
    // The leader router also says which leader answered.
    ...(to === 'leader'
      ? { leader: { id: 'n1', url: LEADER_URL, term: 3, at: new Date() }, attempts: 1 }
      : {}),
  };
};
const LEADER_URL = 'http://leader.test:4001';
/** The write documents handed on for preview to the followers, with the leader that answered. */
const previewed: Array<{ query: string; leaderUrl: string }> = [];

let base = '';
let close: () => Promise<void> = async () => {};

before(async () => {
  const app = express();
  app.post(
    '/graphql',
    graphqlProxy({
      queries: { send: answer('query') } as unknown as QueryRouter,
      leader: { send: answer('leader') } as unknown as LeaderRouter,
      documents: { forwarded: (query, leaderUrl) => previewed.push({ query, leaderUrl }) },
      ownFields: processLocalRootFields(await buildEnsembleSchema()),
      apiToken: TOKEN,
      maxUploadBytes: 1024,
      metrics: createMetrics(new LeaderRegistry(), { all: () => [] } as unknown as NodeDirectory),
      logger: pino({ level: 'silent' }),
    }),
    // Stands in for Apollo: what reaches it, and how.
    express.json(),
    (req, res) => {
      res.json({ fallback: req.body === undefined ? '(undefined)' : req.body });
    },
  );
  app.use(((err, _req, res, _next) => {
    res
      .status(err.status ?? 500)
      .json({ error: { status: err.status, type: err.type, message: err.message } });
  }) as express.ErrorRequestHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});

after(() => close());

async function post(
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  chunked = false,
): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    // A stream has no length: fetch sends it chunked, which the lean reader leaves to body-parser.
    body: chunked
      ? new ReadableStream({
          start(c) {
            c.enqueue(typeof body === 'string' ? new TextEncoder().encode(body) : body);
            c.close();
          },
        })
      : body,
    ...(chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

test('a query is forwarded byte for byte and the answer relayed as it is', async () => {
  sent.length = 0;
  const body = '{ "query" : "query Q { task(id: \\"1\\") { id } }",\n "variables": {"b": 2, "a": 1} }';
  const res = await post(body);
  assert.equal(res.status, 200);
  assert.equal(res.type, 'application/json; charset=utf-8');
  assert.equal(res.text, '{"data":{"from":"query"}}');
  assert.deepEqual(sent, [{ to: 'query', body, headers: { 'content-type': 'application/json' } }]);
  // The client's Accept goes on (the node negotiates the answer's media type), unless it is the
  // node's default anyway, as fetch's `*/*` is.
  sent.length = 0;
  const accept = 'application/graphql-response+json, application/json;q=0.9';
  await post(body, { accept });
  await post(body, { accept: 'application/json' });
  assert.deepEqual(
    sent.map((s) => s.headers),
    [{ 'content-type': 'application/json', accept }, { 'content-type': 'application/json' }],
  );
});

test('a mutation goes to the leader with its token and idempotency key; without a token it is refused here', async () => {
  sent.length = 0;
  previewed.length = 0;
  const query = 'mutation { createTask(input: { title: "x" }) { id } }';
  const body = JSON.stringify({ query });
  const ok = await post(body, { authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'k1' });
  assert.equal(ok.text, '{"data":{"from":"leader"}}');
  // Once answered, its document is handed on for the followers' preview.
  assert.deepEqual(previewed, [{ query, leaderUrl: LEADER_URL }]);
  assert.deepEqual(sent, [
    {
      to: 'leader',
      body,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': 'k1',
      },
    },
  ]);
  // A query's never is.
  await post(JSON.stringify({ query: '{ tasks { edges { cursor } } }' }));
  assert.equal(previewed.length, 1);
  sent.length = 0;
  previewed.length = 0;
  const refused = await post(body);
  assert.equal(JSON.parse(refused.text).errors[0].extensions.code, 'UNAUTHENTICATED');
  assert.equal(sent.length, 0);
  assert.equal(previewed.length, 0);
});

test('the gateway’s own fields reach Apollo with the body parsed', async () => {
  sent.length = 0;
  const request = { query: '{ cluster { term } }', variables: { a: 1 } };
  const res = await post(JSON.stringify(request), { 'content-type': 'application/json; charset=utf-8' });
  assert.deepEqual(JSON.parse(res.text), { fallback: request });
  assert.equal(sent.length, 0);
});

test('odd bodies get the same answer from the lean reader as from body-parser', async () => {
  const bodies = [
    '',
    'null',
    '"text"',
    '[{"query":"{ task(id: 1) { id } }"}]',
    '{"query": 5}',
    '{bad json',
    ' {"query":"{ task(id: 1) { id } }"}',
    '\uFEFF{"query":"{ task(id: 1) { id } }"}',
    '{"query":"{ task(id: 1) { id } }","operationName":"Missing"}',
    '{"query":"subscription { leaderChanged { term } }"}',
  ];
  for (const body of bodies) {
    sent.length = 0;
    const lean = await post(body);
    const leanSent = [...sent];
    sent.length = 0;
    const chunked = await post(body, {}, true);
    assert.deepEqual(lean, chunked, `answers to ${JSON.stringify(body)}`);
    assert.deepEqual(leanSent, [...sent], `forwarded for ${JSON.stringify(body)}`);
  }
});

test('a JSON body above the limit is refused with 413 before it is read', async () => {
  const res = await post(JSON.stringify({ query: 'x'.repeat(1024 * 1024 + 1) }));
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.text).error.type, 'entity.too.large');
});

test('an upload above the limit is refused with 413 in the node’s words, naming the file limit', async () => {
  sent.length = 0;
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: 'mutation ($f: Upload!) { uploadFile(file: $f) { id } }',
      variables: { f: null },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  // Over the file limit (1 KiB) and the multipart envelope's allowance on top of it.
  form.set('0', new Blob([new Uint8Array(200 * 1024)]), 'big.json');
  const res = await fetch(base, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), {
    errors: [
      {
        message: 'the file exceeds the upload limit of 1024 bytes',
        extensions: { limitBytes: 1024, code: 'PAYLOAD_TOO_LARGE' },
      },
    ],
  });
  assert.deepEqual(sent, [], 'nothing forwarded');
});

test('without a valid token a mutation is refused here with the node’s reason, before anything is sent', async () => {
  sent.length = 0;
  const body = JSON.stringify({ query: 'mutation { createTask(input: { title: "x" }) { id } }' });
  const refusals = [
    [{}, 'this operation needs the header `Authorization: Bearer <API_TOKEN>`'],
    [{ authorization: 'Token abc' }, 'the Authorization header must be `Bearer <API_TOKEN>`'],
    [{ authorization: 'Bearer wrong' }, 'the API token is wrong'],
  ] as const;
  for (const [headers, message] of refusals) {
    const res = await post(body, headers);
    assert.equal(res.status, 200);
    assert.equal(res.type, 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(res.text), {
      data: null,
      errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }],
    });
  }
  assert.deepEqual(sent, []);
});

test('a router that cannot answer: 503 with a retry hint (NO_LEADER, SERVICE_UNAVAILABLE), else a masked 500', async () => {
  const mutation = JSON.stringify({ query: 'mutation { createTask(input: { title: "x" }) { id } }' });
  const query = JSON.stringify({ query: '{ tasks { edges { cursor } } }' });
  const cases = [
    [
      new NoLeaderError(3_000),
      mutation,
      503,
      'NO_LEADER',
      'no leader was announced within 3000 ms; retry shortly',
    ],
    [new NoNodeError('n1: refused'), query, 503, 'SERVICE_UNAVAILABLE', 'no node could answer: n1: refused'],
    [new Error('a bug'), query, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error'],
  ] as const;
  try {
    for (const [error, body, status, code, message] of cases) {
      failure = error;
      const res = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body,
      });
      assert.equal(res.status, status);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.deepEqual(await res.json(), {
        errors: [{ message, extensions: status === 503 ? { code, retryAfterMs: 1_000 } : { code } }],
      });
    }
  } finally {
    failure = null;
  }
});

// A resolver the schema does not have, to see that a new field the gateway must answer is found.
@Resolver()
class NewFieldsResolver {
  @Query(() => Cluster)
  clusterAgain(): null {
    return null;
  }

  @ProcessLocal()
  @Query(() => String)
  localGreeting(): string {
    return 'hello from this process';
  }

  @Query(() => String)
  plainGreeting(): string {
    return 'hello from any node';
  }
}

test('the gateway’s own fields come from the schema’s marks, and a new one is picked up', async () => {
  // The schema served today marks two: `cluster` (its type, Cluster) and `transferLeadership` (itself).
  assert.deepEqual([...processLocalRootFields(await buildEnsembleSchema())].sort(), [
    'cluster',
    'transferLeadership',
  ]);
  const schema = await buildSchema({
    resolvers: [NewFieldsResolver],
    authChecker,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  });
  const own = processLocalRootFields(schema);
  // A field of a marked type, and a marked field; not an unmarked one.
  assert.deepEqual([...own].sort(), ['clusterAgain', 'localGreeting']);
  assert.equal(classify('{ clusterAgain { term } }', own), null, 'answered by the gateway');
  assert.equal(classify('{ tasks { edges { cursor } } localGreeting }', own), null);
  assert.equal(classify('{ plainGreeting }', own), 'query', 'forwarded to a node');
});
