/**
 * The batching transport against a real HTTP server standing in for a node: requests for one node
 * in the same turn leave as one signed batch and each caller gets its own answer; a request alone
 * goes plain; uploads never batch; a node that refuses batches is sent requests one by one; an
 * aborted request is rejected at once; an unreachable node fails every request of a batch.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import {
  BATCH_CONTENT_TYPE,
  BATCH_PATH,
  batchSignatureValid,
  decodeRequests,
  encodeResponses,
} from '../../common/graphql-batch.js';
import { HttpUnreachableError } from '../../common/http-client.js';
import { SIGNATURE_HEADER } from '../../common/http-headers.js';
import { NodeBatcher } from './node-batcher.js';

const SECRET = 'batcher-test-secret-0123456789';

interface Seen {
  readonly path: string;
  readonly count: number;
}

/** Answers every request with what it was sent: `{ echo, auth }`; a batch, each of its requests. */
async function fakeNode(options: { secret: string; takesBatches?: boolean; delayMs?: number }) {
  const seen: Seen[] = [];
  const answerTo = (body: Buffer, auth: string | undefined) =>
    Buffer.from(JSON.stringify({ echo: JSON.parse(body.toString()), auth: auth ?? null }));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      setTimeout(() => {
        if (req.url === BATCH_PATH) {
          const signed = batchSignatureValid(
            options.secret,
            body,
            req.headers[SIGNATURE_HEADER] as string | undefined,
          );
          if (options.takesBatches === false || !signed) {
            seen.push({ path: req.url, count: 0 });
            res.writeHead(options.takesBatches === false ? 404 : 401).end('{"errors":[]}');
            return;
          }
          const requests = decodeRequests(body);
          seen.push({ path: req.url, count: requests.length });
          const out = encodeResponses(
            requests.map((r) => ({
              status: 200,
              contentType: 'application/json; charset=utf-8',
              body: answerTo(r.body, r.headers.authorization),
            })),
          );
          res.writeHead(200, { 'content-type': BATCH_CONTENT_TYPE }).end(out);
          return;
        }
        seen.push({ path: req.url ?? '', count: 1 });
        const multipart = req.headers['content-type']?.startsWith('multipart/');
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(multipart ? '{"upload":true}' : answerTo(body, req.headers.authorization));
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type FakeNodeOf = Awaited<ReturnType<typeof fakeNode>>;
let node: FakeNodeOf;
let stranger: FakeNodeOf;
let old: FakeNodeOf;
const batches: number[] = [];
const batcher = new NodeBatcher({
  secret: SECRET,
  logger: pino({ level: 'silent' }),
  onBatch: (size) => batches.push(size),
});
const json = { 'content-type': 'application/json' };
const query = (n: number) => JSON.stringify({ query: `{ q${n} }` });
const sendTo = (to: FakeNodeOf, body: string, headers: Record<string, string> = json, signal?: AbortSignal) =>
  batcher.send(to.url, body, headers, { timeoutMs: 5_000, ...(signal ? { signal } : {}) });
const answerOf = (res: { body: Buffer }) =>
  JSON.parse(res.body.toString()) as { echo: unknown; auth: unknown };

before(async () => {
  node = await fakeNode({ secret: SECRET });
  stranger = await fakeNode({ secret: 'not-the-cluster-secret-0123' });
  old = await fakeNode({ secret: SECRET, takesBatches: false });
});

after(async () => {
  await Promise.all([node.close(), stranger.close(), old.close()]);
});

test('requests for one node in the same turn go as one batch; each caller gets its own answer', async () => {
  node.seen.length = 0;
  batches.length = 0;
  const answers = await Promise.all([
    sendTo(node, query(1)),
    sendTo(node, query(2), { ...json, authorization: 'Bearer t', 'idempotency-key': 'k' }),
    sendTo(node, query(3)),
  ]);
  assert.deepEqual(node.seen, [{ path: BATCH_PATH, count: 3 }]);
  assert.deepEqual(batches, [3]);
  assert.deepEqual(answers.map(answerOf), [
    { echo: { query: '{ q1 }' }, auth: null },
    { echo: { query: '{ q2 }' }, auth: 'Bearer t' },
    { echo: { query: '{ q3 }' }, auth: null },
  ]);
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/json; charset=utf-8');
  }
});

test('a request alone, an upload, and one with a long token go as plain POST /graphql', async () => {
  node.seen.length = 0;
  batches.length = 0;
  assert.deepEqual(answerOf(await sendTo(node, query(4))), { echo: { query: '{ q4 }' }, auth: null });
  const longToken = `Bearer ${'x'.repeat(2_000)}`;
  const [upload, long, other] = await Promise.all([
    sendTo(node, '--x--', {
      'content-type': 'multipart/form-data; boundary=x',
      'apollo-require-preflight': 'true',
    }),
    sendTo(node, query(15), { ...json, authorization: longToken }),
    sendTo(node, query(5)),
  ]);
  assert.equal(upload.body.toString(), '{"upload":true}');
  assert.deepEqual(answerOf(long), { echo: { query: '{ q15 }' }, auth: longToken });
  assert.deepEqual(answerOf(other), { echo: { query: '{ q5 }' }, auth: null });
  assert.deepEqual(node.seen, [
    { path: '/graphql', count: 1 },
    { path: '/graphql', count: 1 },
    { path: '/graphql', count: 1 },
    { path: '/graphql', count: 1 },
  ]);
  assert.deepEqual(batches, []);
});

test('a node that refuses batches gets the same requests one by one, and no batch for a while', async () => {
  for (const refuser of [stranger, old]) {
    refuser.seen.length = 0;
    const first = await Promise.all([sendTo(refuser, query(6)), sendTo(refuser, query(7))]);
    assert.deepEqual(first.map(answerOf), [
      { echo: { query: '{ q6 }' }, auth: null },
      { echo: { query: '{ q7 }' }, auth: null },
    ]);
    assert.deepEqual(
      refuser.seen.map((s) => s.path),
      [BATCH_PATH, '/graphql', '/graphql'],
    );
    refuser.seen.length = 0;
    await Promise.all([sendTo(refuser, query(8)), sendTo(refuser, query(9))]);
    assert.deepEqual(
      refuser.seen.map((s) => s.path),
      ['/graphql', '/graphql'],
    );
  }
});

test('an aborted request is rejected at once; its batch-mates are answered', async () => {
  const slow = await fakeNode({ secret: SECRET, delayMs: 300 });
  try {
    const abort = new AbortController();
    const aborted = sendTo(slow, query(10), json, abort.signal);
    const kept = sendTo(slow, query(11));
    setImmediate(() => abort.abort());
    await assert.rejects(
      aborted,
      (e: unknown) => e instanceof HttpUnreachableError && e.reason === 'ABORT_ERR',
    );
    assert.deepEqual(slow.seen, [], 'rejected before the node answered');
    assert.deepEqual(answerOf(await kept), { echo: { query: '{ q11 }' }, auth: null });
    assert.deepEqual(slow.seen, [{ path: BATCH_PATH, count: 2 }]);
    // Already aborted: never sent.
    await assert.rejects(sendTo(slow, query(12), json, AbortSignal.abort()), HttpUnreachableError);
  } finally {
    await slow.close();
  }
});

test('a node that cannot be reached fails every request of the batch as unreachable', async () => {
  const gone = await fakeNode({ secret: SECRET });
  await gone.close();
  const results = await Promise.allSettled([sendTo(gone, query(13)), sendTo(gone, query(14))]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok((r as PromiseRejectedResult).reason instanceof HttpUnreachableError);
  }
});
