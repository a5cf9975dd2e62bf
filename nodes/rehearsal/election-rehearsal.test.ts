import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ElectionMessage } from '../election/messages.js';
import {
  ElectionRehearsal,
  type ElectionRehearsalResult,
  REHEARSED_MESSAGES,
  rehearseElection,
} from './election-rehearsal.js';

test('a rehearsal elects a leader that hands over, every kind of datagram through the codec', () => {
  const result = rehearseElection();
  assert.notEqual(result.successor, result.elected);
  assert.deepEqual(result.messages, [...REHEARSED_MESSAGES].sort());
});

test('the rehearsed kinds are the whole wire vocabulary', () => {
  // A message type added to the election without a rehearsal of it fails to compile here.
  const types: Record<ElectionMessage['type'], true> = {
    AppendEntries: true,
    AppendEntriesReply: true,
    RequestVote: true,
    RequestVoteReply: true,
    TimeoutNow: true,
  };
  for (const type of Object.keys(types)) {
    assert.ok(
      REHEARSED_MESSAGES.some((kind) => kind.startsWith(type)),
      `${type} is rehearsed`,
    );
  }
});

test('rehearsals are deterministic and independent of each other', () => {
  const first = rehearseElection();
  for (let i = 0; i < 5; i++) assert.deepEqual(rehearseElection(), first);
});

test('the service rehearses at start and then at its interval, until stopped', async () => {
  const results: ElectionRehearsalResult[] = [];
  let third = () => {};
  const thirdDone = new Promise<void>((resolve) => {
    third = resolve;
  });
  const warnings: string[] = [];
  const rehearsal = new ElectionRehearsal({
    logger: { warn: (_obj: object, msg: string) => warnings.push(msg) } as never,
    intervalMs: 5,
    onRehearsed: (r) => {
      results.push(r);
      if (results.length === 3) third();
    },
  });
  rehearsal.start();
  assert.equal(results.length, 1, 'the first rehearsal runs in start()');
  await thirdDone;
  rehearsal.stop();
  const stoppedAt = results.length;
  // Two more intervals' worth of turns of the event loop: nothing runs once stopped.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(results.length, stoppedAt);
  assert.deepEqual(warnings, []);
});
