import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeReadiness } from './node-health.js';

test('a node is ready when it knows a leader and its database answered its last probe', () => {
  assert.deepEqual(nodeReadiness({ leader: 'n2' }, { failingForMs: 0 }), {
    ready: true,
    missing: [],
    leader: 'n2',
  });
});

test('a node without a leader, or whose database is failing, is not ready and says why', () => {
  assert.deepEqual(nodeReadiness({ leader: null }, { failingForMs: 0 }), {
    ready: false,
    missing: ['no leader known'],
    leader: null,
  });
  assert.deepEqual(nodeReadiness({ leader: 'n1' }, { failingForMs: 1500 }).missing, [
    'the database has not answered for 1500 ms',
  ]);
  assert.equal(nodeReadiness({ leader: null }, { failingForMs: 9 }).missing.length, 2);
});

test('a stopping node is not ready, whatever else holds', () => {
  assert.deepEqual(nodeReadiness({ leader: 'n2' }, { failingForMs: 0 }, true), {
    ready: false,
    missing: ['stopping'],
    leader: 'n2',
  });
});
