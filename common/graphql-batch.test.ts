import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BATCHED_HEADERS,
  type BatchedRequest,
  BatchFormatError,
  batchSignatureValid,
  decodeRequests,
  decodeResponses,
  encodeRequests,
  encodeResponses,
  signBatch,
} from './graphql-batch.js';
import { MAX_BATCH } from './limits.js';

test('requests and answers come back as they went, bytes and all (UTF-8, empty bodies)', () => {
  const requests: BatchedRequest[] = [
    {
      headers: { authorization: 'Bearer t', 'idempotency-key': 'k' },
      body: Buffer.from('{"query":"{ a }"}'),
    },
    { headers: {}, body: Buffer.from('{"query":"{ b(t: \\"ăîșț€\\") }"}') },
    { headers: {}, body: Buffer.alloc(0) },
  ];
  assert.deepEqual(decodeRequests(encodeRequests(requests)), requests);
  const answers = [
    { status: 200, contentType: 'application/json; charset=utf-8', body: Buffer.from('{"data":{"a":"ș"}}') },
    { status: 400, contentType: 'application/graphql-response+json', body: Buffer.from('{"errors":[]}') },
    { status: 503, contentType: '', body: Buffer.alloc(0) },
  ];
  assert.deepEqual(decodeResponses(encodeResponses(answers), 3), answers);
});

test("each request keeps its own caller's traceparent, in the frame format a node before tracing reads", () => {
  const requests: BatchedRequest[] = [
    {
      headers: {
        authorization: 'Bearer t',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=1',
      },
      body: Buffer.from('{"query":"{ a }"}'),
    },
    {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      body: Buffer.from('{"query":"{ b }"}'),
    },
    { headers: {}, body: Buffer.from('{"query":"{ c }"}') },
  ];
  const bytes = encodeRequests(requests);
  assert.deepEqual(
    decodeRequests(bytes).map((r) => r.headers.traceparent),
    requests.map((r) => r.headers.traceparent),
  );
  // The frames are laid out as before tracing: the count, then each request's headers as one
  // JSON object of strings (a node that does not trace ignores the names it does not know).
  const first = JSON.stringify(requests[0]?.headers);
  assert.equal(bytes.readUInt32BE(0), 3);
  assert.equal(bytes.readUInt32BE(4), Buffer.byteLength(first));
  assert.equal(bytes.subarray(8, 8 + Buffer.byteLength(first)).toString(), first);
  assert.ok(BATCHED_HEADERS.includes('traceparent') && BATCHED_HEADERS.includes('tracestate'));
});

test('a batch that does not follow the format is refused with what is wrong', () => {
  const one = encodeRequests([{ headers: {}, body: Buffer.from('{}') }]);
  const refusals: Array<[Buffer, RegExp]> = [
    [Buffer.alloc(0), /the count runs past the end/],
    [Buffer.from([0, 0, 0, 0]), /0 requests \(1 to 64 allowed\)/],
    [
      encodeRequests(Array.from({ length: MAX_BATCH + 1 }, () => ({ headers: {}, body: Buffer.alloc(0) }))),
      /65 requests/,
    ],
    [one.subarray(0, one.length - 1), /request 0's body runs past the end/],
    [Buffer.concat([one, Buffer.from('x')]), /1 bytes after the last frame/],
    [Buffer.from([0, 0, 0, 1, 0, 0, 0, 2, 0x7b, 0x7b]), /request 0's headers are not JSON/],
    [Buffer.from([0, 0, 0, 1, 0, 0, 0, 2, 0x5b, 0x5d]), /not an object of strings/],
    [Buffer.from([0, 0, 0, 1, 0, 0, 0, 7, ...Buffer.from('{"a":1}')]), /not an object of strings/],
  ];
  for (const [bytes, problem] of refusals) {
    assert.throws(
      () => decodeRequests(bytes),
      (e: unknown) => e instanceof BatchFormatError && problem.test(e.message),
      String(problem),
    );
  }
  const answers = encodeResponses([{ status: 200, contentType: 'a', body: Buffer.from('{}') }]);
  assert.throws(() => decodeResponses(answers, 2), /answer 1's status runs past the end/);
  assert.throws(() => decodeResponses(Buffer.concat([answers, answers]), 1), /after the last frame/);
});

test('a signature is good for its body and secret only', () => {
  const body = Buffer.from('batch');
  const signature = signBatch('secret-one-0123456789', body);
  assert.equal(batchSignatureValid('secret-one-0123456789', body, signature), true);
  assert.equal(batchSignatureValid('secret-two-0123456789', body, signature), false);
  assert.equal(batchSignatureValid('secret-one-0123456789', Buffer.from('batcH'), signature), false);
  assert.equal(batchSignatureValid('secret-one-0123456789', body, undefined), false);
  assert.equal(batchSignatureValid('secret-one-0123456789', body, signature.slice(0, -1)), false);
});
