/**
 * The payload's checks on their own (the codec's tests cover them through signed frames): each
 * kind of message read back as a fresh object of exactly its fields, and each refusal naming
 * the field at fault.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ElectionMessage } from '../election/messages.js';
import { checkMessage, checkPayload, MAX_ID_LENGTH } from './datagram-payload.js';

const base = { from: 'n1', to: 'n2', term: 7 };
const every: ElectionMessage[] = [
  { type: 'RequestVote', ...base, preVote: true },
  { type: 'RequestVote', ...base, preVote: false, transfer: true },
  { type: 'RequestVoteReply', ...base, preVote: false, granted: true },
  { type: 'AppendEntries', ...base },
  { type: 'AppendEntriesReply', ...base, success: false },
  { type: 'TimeoutNow', ...base },
];

describe('checkMessage', () => {
  test('reads every kind of message back as a copy of its fields', () => {
    for (const msg of every) {
      const read = checkMessage(JSON.parse(JSON.stringify(msg)));
      assert.deepEqual(read, msg);
      assert.notEqual(read, msg);
    }
  });

  test('names the field at fault', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...every[0], term: -1 }, /^term: /],
      [{ ...every[0], term: 2 ** 53 }, /^term: /],
      [{ ...every[0], from: 'x'.repeat(MAX_ID_LENGTH + 1) }, /^from: /],
      [{ ...every[0], to: '' }, /^to: /],
      [{ ...every[0], preVote: 'yes' }, /^preVote: /],
      [{ ...every[0], transfer: null }, /^transfer: /],
      [{ ...every[2], granted: undefined }, /^granted: /],
      [{ ...every[4], success: 1 }, /^success: /],
      [{ ...every[3], preVote: true }, /^preVote: not a field of AppendEntries/],
      [{ ...every[5], transfer: true }, /^transfer: not a field of TimeoutNow/],
      [{ ...every[0], type: 'InstallSnapshot' }, /^type: unknown message type "InstallSnapshot"/],
      // Looked up in a Map: a name every object inherits is no message type.
      [{ ...every[3], type: 'constructor' }, /^type: unknown/],
      [{ ...every[3], type: '__proto__' }, /^type: unknown/],
      [[], /^expected an object/],
      [null, /^expected an object/],
    ];
    for (const [value, problem] of cases) assert.match(checkMessage(value) as string, problem);
  });
});

describe('checkPayload', () => {
  const payload = { cluster: 'c', boot: 3, seq: 1, ts: 1_700_000_000_000, msg: every[0] };

  test('reads a payload back with its message', () => {
    assert.deepEqual(checkPayload(JSON.parse(JSON.stringify(payload))), payload);
  });

  test('names the field at fault, inside the message too', () => {
    assert.match(checkPayload({ ...payload, seq: 0 }) as string, /^seq: /);
    assert.match(checkPayload({ ...payload, boot: -1 }) as string, /^boot: /);
    assert.match(checkPayload({ ...payload, ts: 1.5 }) as string, /^ts: /);
    assert.match(checkPayload({ ...payload, cluster: '' }) as string, /^cluster: /);
    assert.match(checkPayload({ ...payload, hops: 1 }) as string, /^hops: not a field of a datagram/);
    assert.match(checkPayload({ ...payload, msg: { ...every[0], term: '7' } }) as string, /^msg: term: /);
    assert.match(checkPayload(JSON.parse('{"__proto__":{}}')) as string, /^__proto__: not a field/);
  });
});
