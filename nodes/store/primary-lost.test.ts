import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFailoverInProgress, isPrimaryLost, NoWritablePrimaryError } from './primary-lost.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('errors of a server that is no longer the writable primary mean: look again', () => {
  for (const code of [
    '25006',
    '57P01',
    '57P02',
    '57P03',
    '08006',
    '08001',
    '08P01',
    'ECONNREFUSED',
    'ECONNRESET',
  ]) {
    assert.equal(isPrimaryLost(withCode(code)), true, code);
  }
  assert.equal(isPrimaryLost(new Error('Connection terminated unexpectedly')), true);
  assert.equal(
    isPrimaryLost(new Error('Client has encountered a connection error and is not queryable')),
    true,
  );
  assert.equal(isPrimaryLost(new NoWritablePrimaryError('none')), true);
  assert.equal(isPrimaryLost(new Error('wrapped', { cause: withCode('57P01') })), true, 'through a cause');
});

test('errors of the query or the data do not', () => {
  for (const code of ['23505', '40001', '42P01', '22P02', '53300', 'ENOENT']) {
    assert.equal(isPrimaryLost(withCode(code)), false, code);
  }
  assert.equal(isPrimaryLost(new Error('stream task-1 is at version 2, not the expected 1')), false);
  assert.equal(isPrimaryLost('not an error'), false);
});

test('a failover in progress is no host writable with a standby answering, not no host answering', () => {
  assert.equal(isFailoverInProgress(new NoWritablePrimaryError('h2 is read-only', true)), true);
  assert.equal(
    isFailoverInProgress(
      new Error('wrapped', { cause: new NoWritablePrimaryError('h2 is read-only', true) }),
    ),
    true,
  );
  assert.equal(isFailoverInProgress(new NoWritablePrimaryError('h1: ECONNREFUSED; h2: ETIMEDOUT')), false);
  assert.equal(isFailoverInProgress(withCode('57P01')), false);
});
