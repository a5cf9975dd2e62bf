import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { NoWritablePrimaryError } from '../store/primary-lost.js';
import { databaseRefusals } from './database-refusals.js';

test('an error meaning the primary moved is SERVICE_UNAVAILABLE; anything else is left to the masking', () => {
  const shutDown = Object.assign(new Error('terminating connection due to administrator command'), {
    code: '57P01',
  });
  for (const error of [new NoWritablePrimaryError('no writable primary among the hosts'), shutDown]) {
    const refusal = databaseRefusals(error);
    assert.ok(refusal instanceof ApiError, String(error));
    assert.equal(refusal.code, 'SERVICE_UNAVAILABLE');
    assert.match(refusal.message, /failover.*retry/);
  }
  assert.equal(databaseRefusals(new Error('syntax error at or near "selct"')), null);
  assert.equal(databaseRefusals(Object.assign(new Error('unique violation'), { code: '23505' })), null);
});
