import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayReadiness } from './gateway-readiness.js';
import type { NodeState } from './routing/node-directory.js';

const node = (url: string, healthy: boolean, problem: string | null = null): NodeState => ({
  url,
  id: null,
  healthy,
  role: null,
  term: 3,
  lastSeenAt: null,
  writable: false,
  drops: {},
  database: null,
  startedAt: null,
  problem,
});
const leader = { id: 'n1', url: 'http://n1:4001/', term: 3, at: new Date() };

test('a gateway is ready when it knows a leader whose node answered its last health check', () => {
  assert.deepEqual(gatewayReadiness(leader, [node('http://n1:4001', true), node('http://n2:4001', false)]), {
    ready: true,
    missing: [],
    leader: 'n1',
  });
});

test('no leader, or a leader that stopped answering: not ready, saying why', () => {
  assert.deepEqual(gatewayReadiness(null, [node('http://n1:4001', true)]).missing, ['no leader known yet']);
  assert.deepEqual(
    gatewayReadiness(leader, [node('http://n1:4001', false, 'connect ECONNREFUSED')]).missing,
    ['the leader n1 did not answer its last health check (connect ECONNREFUSED)'],
  );
  assert.deepEqual(gatewayReadiness(leader, []).missing, [
    'the leader n1 did not answer its last health check (not checked yet)',
  ]);
});
