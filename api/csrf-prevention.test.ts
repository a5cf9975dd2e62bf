/**
 * The gateway's check of Apollo's CSRF rule (csrf-prevention.ts) against Apollo's own, configured
 * as the nodes configure it: for a multipart request (which a browser may send without a
 * preflight) both must agree on every header, so the gateway forwards exactly the uploads a node
 * would run and leaves the others to Apollo's refusal.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSchema } from 'graphql';
import { CSRF_PREVENTION_HEADERS, PREFLIGHT_HEADER } from '../common/http-headers.js';
import { csrfPrevention, preflighted } from './csrf-prevention.js';

let apollo: ApolloServer;

before(async () => {
  apollo = new ApolloServer({ schema: buildSchema('type Query { ok: Boolean }'), csrfPrevention });
  await apollo.start();
});

after(() => apollo.stop());

/** Whether Apollo refuses a multipart request with these headers as a possible CSRF. */
async function apolloBlocks(headers: Record<string, string>): Promise<boolean> {
  const map = new HeaderMap([['content-type', 'multipart/form-data; boundary=x']]);
  for (const [name, value] of Object.entries(headers)) map.set(name, value);
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'POST', headers: map, search: '', body: { query: '{ ok }' } },
    context: async () => ({}),
  });
  const text = result.body.kind === 'complete' ? result.body.string : '';
  return result.status === 400 && text.includes('Cross-Site Request Forgery');
}

test('the gateway lets a multipart request through exactly when Apollo does', async () => {
  const cases: Record<string, string>[] = [
    {},
    { [PREFLIGHT_HEADER]: 'true' },
    { [PREFLIGHT_HEADER]: '' },
    { 'x-apollo-operation-name': 'Upload' },
    { 'x-apollo-operation-name': '' },
    { 'x-requested-with': 'XMLHttpRequest' },
    ...CSRF_PREVENTION_HEADERS.map((name) => ({ [name]: '1' })),
  ];
  for (const headers of cases) {
    const blocked = await apolloBlocks(headers);
    assert.equal(preflighted(headers), !blocked, `headers ${JSON.stringify(headers)}`);
  }
  assert.equal(await apolloBlocks({}), true, 'Apollo does block a bare multipart request');
  assert.equal(preflighted({ [PREFLIGHT_HEADER]: 'true' }), true);
});
