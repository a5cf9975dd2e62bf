/**
 * Conformance to the GraphQL-over-HTTP spec, by the spec's own audit suite (the `graphql-http`
 * package's server audits), run against a real node and against the real gateway in front of a
 * real 3-node cluster: neither fails a requirement (no audit `error`), and the gateway is no
 * worse than a node (every audit a node passes, the gateway passes too). The warnings left are
 * printed for the reader: recommendations both choose not to follow, each said why in the README.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AuditResult, auditServer } from 'graphql-http';
import { PREFLIGHTED } from '../common/http-headers.js';
import type { LocalCluster } from '../launcher/local-cluster.js';
import { freePortRange } from '../test-support/free-port-range.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayUrlOf,
  startInProcessGateway,
} from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import type { GatewayServer } from './gateway-server.js';

const TOKEN = 'conformance-test-token-0123456789';
const SECRET = 'conformance-test-secret-0123456789';
const MAX_UPLOAD = 1024;
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

let pg: TestPostgres;
let gateway: GatewayServer;
let cluster: LocalCluster;
let gatewayUrl: string;
let nodeUrl: string;

before(async () => {
  pg = await startTestPostgres();
  const databaseUrl = await pg.createDatabase('conformance');
  const basePort = await freePortRange(14);
  gatewayUrl = gatewayUrlOf(basePort);
  const stack = { basePort, secret: SECRET, apiToken: TOKEN };
  // A small upload limit, so that the proxy's own refusal of a too large upload is cheap to provoke.
  gateway = await startInProcessGateway(stack, { MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
  cluster = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-conformance-')),
    databaseUrl,
    logLevel: 'warn',
  });
  cluster.startAll();
  const leader = await gatewayLeader(gatewayUrl, 0, 60_000);
  nodeUrl = leader.url;
});

after(async () => {
  await gateway?.stop();
  await cluster?.stopAll();
  await pg?.stop();
});

/**
 * The audit's requests, each with `apollo-require-preflight` — a requirement of ours, not a
 * conformance gap: Apollo's CSRF prevention (api/csrf-prevention.ts) runs a request a browser
 * could send cross-site without a preflight (a GET, a multipart upload) only with that header,
 * and the audit's GETs carry none. POSTs of JSON are unaffected (a browser preflights them).
 */
const preflightedFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...PREFLIGHTED } });

/** The audit's results, each printed (a warning with its reason) for whoever reads the test's output. */
async function audit(what: string, url: string): Promise<AuditResult[]> {
  const results = await auditServer({ url: `${url}/graphql`, fetchFn: preflightedFetch });
  for (const r of results)
    process.stdout.write(
      `${what} ${r.status.padEnd(6)} ${r.id} ${r.name}${r.status === 'ok' ? '' : `\n    ${r.reason}`}\n`,
    );
  return results;
}

const failed = (results: readonly AuditResult[]) =>
  results
    .filter((r) => r.status === 'error')
    .map((r) => `${r.id} ${r.name}: ${r.status === 'ok' ? '' : r.reason}`);

test('the GraphQL-over-HTTP audit: no error on a node or the gateway, and the gateway no worse', async () => {
  const node = await audit('node   ', nodeUrl);
  const atGateway = await audit('gateway', gatewayUrl);
  assert.deepEqual(failed(node), [], 'the node fails no requirement');
  assert.deepEqual(failed(atGateway), [], 'the gateway fails no requirement');
  const okAtGateway = new Set(atGateway.filter((r) => r.status === 'ok').map((r) => r.id));
  const worse = node
    .filter((r) => r.status === 'ok' && !okAtGateway.has(r.id))
    .map((r) => `${r.id} ${r.name}`);
  assert.deepEqual(worse, [], 'every audit a node passes, the gateway passes');
});

/**
 * What a client acts on in an answer, to compare a node's with the gateway's: status, media type,
 * data and each error's message and code (the proxy's refusal names no location or path).
 */
async function answerOf(res: Response) {
  const body = (await res.json()) as {
    data?: unknown;
    errors?: Array<{ message: string; extensions?: { code?: unknown } }>;
  };
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    data: body.data,
    errors: body.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })),
  };
}

const post = (url: string, body: string, headers: Record<string, string>) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

test("the gateway's own answers take the media type the client accepts, as a node's answers do", async () => {
  const mutation = JSON.stringify({ query: 'mutation { createTask(input: { title: "accept" }) { id } }' });
  for (const accept of [GRAPHQL_RESPONSE, 'application/json', undefined]) {
    const headers: Record<string, string> = accept === undefined ? {} : { accept };
    const expected = accept === GRAPHQL_RESPONSE ? GRAPHQL_RESPONSE : 'application/json';
    // No token: the gateway refuses the write itself, in the node's own words, status and type.
    const atNode = await answerOf(await post(nodeUrl, mutation, headers));
    const atGateway = await answerOf(await post(gatewayUrl, mutation, headers));
    assert.deepEqual(atGateway, atNode, `refused without a token, accept: ${accept}`);
    assert.equal(atGateway.type, `${expected}; charset=utf-8`);
    // With it: the leader's answer, forwarded with the client's Accept.
    const written = await post(gatewayUrl, mutation, { ...headers, authorization: `Bearer ${TOKEN}` });
    assert.equal(written.status, 200);
    assert.equal(written.headers.get('content-type'), `${expected}; charset=utf-8`);
    const { errors } = (await written.json()) as { errors?: unknown };
    assert.equal(errors, undefined, JSON.stringify(errors));
    // A request error from a node: 400 either way (see the README's Conformance), typed as asked.
    const invalid = await post(gatewayUrl, JSON.stringify({ query: '{ nope }' }), headers);
    assert.equal(invalid.status, 400);
    assert.equal(invalid.headers.get('content-type'), `${expected}; charset=utf-8`);
    // An upload far above the limit (and the room left for the multipart envelope): refused by
    // the gateway's proxy before any node sees it.
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: 'mutation ($f: Upload!) { uploadFile(file: $f) { name } }',
        variables: { f: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob([Buffer.alloc(MAX_UPLOAD + 128 * 1024)]), 'big.json');
    const tooLarge = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { ...headers, ...PREFLIGHTED, authorization: `Bearer ${TOKEN}` },
      body: form,
    });
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.headers.get('content-type'), `${expected}; charset=utf-8`);
    await tooLarge.body?.cancel();
  }
});
