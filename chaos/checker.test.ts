import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  check,
  contiguousVersions,
  fencedTerms,
  noPhantomWrites,
  oneLeaderPerTerm,
  preVoteKeepsLeader,
  queueExactlyOnce,
  recovery,
  writesExactlyOnce,
} from './checker.js';
import type { EventRow, FaultRecord, History, TaskOperation, TransitionRecord } from './history.js';

let position = 0;
const event = (e: Partial<EventRow> & Pick<EventRow, 'stream' | 'version' | 'type'>): EventRow => ({
  position: ++position,
  data: {},
  term: 1,
  nodeId: 'n1',
  ...e,
});
const created = (id: string, title: string, extra: Partial<EventRow> = {}) =>
  event({ stream: `task-${id}`, version: 1, type: 'TaskCreated', data: { id, title }, ...extra });
const updated = (id: string, version: number, title: string, extra: Partial<EventRow> = {}) =>
  event({ stream: `task-${id}`, version, type: 'TaskUpdated', data: { id, title }, ...extra });
const op = (
  o: Partial<TaskOperation> & Pick<TaskOperation, 'kind' | 'title' | 'outcome'>,
): TaskOperation => ({
  client: 0,
  attempts: 1,
  startedAt: 0,
  ...o,
});
const history = (h: Partial<History>): History => ({
  seed: 1,
  operations: [],
  messages: [],
  faults: [],
  transitions: [],
  ...h,
});

describe('the chaos checker', () => {
  test('a clean history passes every check', () => {
    const events = [
      created('a', 'create a', { term: 1 }),
      updated('a', 2, 'update a 1', { term: 2, nodeId: 'n2' }),
      event({
        stream: 'listing-x',
        version: 1,
        type: 'ListingAdded',
        data: { url: 'u1' },
        term: 2,
        nodeId: 'n2',
      }),
    ];
    const h = history({
      operations: [
        op({ kind: 'createTask', title: 'create a', outcome: 'ok', result: { id: 'a', version: 1 } }),
        op({ kind: 'updateTask', title: 'update a 1', outcome: 'ok', taskId: 'a', expectedVersion: 1 }),
        op({ kind: 'createTask', title: 'never made', outcome: 'unknown' }),
      ],
      messages: [{ messageId: 'm1', url: 'u1', copies: 2, outcome: 'ok' }],
      faults: [{ kind: 'isolate-follower', target: 'n3', startedAt: 10, healedAt: 20, recoveryMs: 5 }],
      transitions: [
        { node: 'n1', term: 1, from: 'candidate', to: 'leader', at: 1 },
        { node: 'n2', term: 2, from: 'candidate', to: 'leader', at: 2 },
        { node: 'n3', term: 2, from: 'follower', to: 'pre-candidate', at: 12 },
      ],
    });
    for (const result of check(h, events, { recoveryBoundMs: 1000 }))
      assert.deepEqual(result.violations, [], result.name);
  });

  test('an acknowledged write missing, doubled or misplaced; a refused write present; an unknown one twice', () => {
    const events = [
      created('a', 'doubled'),
      created('b', 'doubled'),
      created('c', 'refused'),
      created('d', 'twice unknown'),
      created('e', 'twice unknown'),
      updated('f', 3, 'wrong version'),
    ];
    const result = writesExactlyOnce(
      [
        op({ kind: 'createTask', title: 'lost', outcome: 'ok' }),
        op({ kind: 'createTask', title: 'doubled', outcome: 'ok' }),
        op({ kind: 'createTask', title: 'refused', outcome: 'error', code: 'CONFLICT' }),
        op({ kind: 'createTask', title: 'twice unknown', outcome: 'unknown' }),
        op({ kind: 'updateTask', title: 'wrong version', outcome: 'ok', taskId: 'f', expectedVersion: 1 }),
      ],
      events,
    );
    assert.equal(result.violations.length, 5, result.violations.join('\n'));
    assert.match(result.violations[0] ?? '', /"lost".*found 0 times/);
    assert.match(result.violations[1] ?? '', /"doubled".*found 2 times/);
    assert.match(result.violations[2] ?? '', /"refused".*refused, yet found 1/);
    assert.match(result.violations[3] ?? '', /"twice unknown".*found 2 times/);
    assert.match(result.violations[4] ?? '', /logged as task-f v3/);
  });

  test('a task event no client wrote is a phantom', () => {
    const result = noPhantomWrites(
      [op({ kind: 'createTask', title: 'mine', outcome: 'ok' })],
      [created('a', 'mine'), created('b', 'nobody')],
    );
    assert.equal(result.violations.length, 1);
    assert.match(result.violations[0] ?? '', /"nobody"/);
  });

  test('fencing: an event under an older term after a newer one, or two writers in one term', () => {
    const result = fencedTerms([
      created('a', 'x', { term: 2, nodeId: 'n1' }),
      created('b', 'y', { term: 3, nodeId: 'n2' }),
      created('c', 'z', { term: 2, nodeId: 'n1' }),
      created('d', 'w', { term: 3, nodeId: 'n3' }),
    ]);
    assert.equal(result.violations.length, 2, result.violations.join('\n'));
    assert.match(result.violations[0] ?? '', /in term 2 after term 3/);
    assert.match(result.violations[1] ?? '', /term 3 written by n2 and n3/);
  });

  test('two leaders in one term', () => {
    const transitions: TransitionRecord[] = [
      { node: 'n1', term: 4, from: 'candidate', to: 'leader', at: 1 },
      { node: 'n2', term: 4, from: 'candidate', to: 'leader', at: 2 },
      { node: 'n2', term: 5, from: 'candidate', to: 'leader', at: 3 },
    ];
    assert.deepEqual(oneLeaderPerTerm(history({ transitions })).violations, ['term 4 had leaders n1, n2']);
  });

  test('a gap or a repeat in a task stream', () => {
    const result = contiguousVersions([
      created('a', 'a'),
      updated('a', 3, 'a3'),
      created('b', 'b'),
      created('b', 'b again'),
    ]);
    assert.equal(result.violations.length, 2);
  });

  test('queue: a confirmed message stored never or twice; an unconfirmed one twice', () => {
    const added = (url: string) =>
      event({ stream: `listing-${url}`, version: 1, type: 'ListingAdded', data: { url } });
    const result = queueExactlyOnce(
      history({
        messages: [
          { messageId: '1', url: 'never', copies: 1, outcome: 'ok' },
          { messageId: '2', url: 'twice', copies: 2, outcome: 'ok' },
          { messageId: '3', url: 'maybe', copies: 1, outcome: 'unknown' },
          { messageId: '4', url: 'fine', copies: 2, outcome: 'ok' },
        ],
      }),
      [added('twice'), added('twice'), added('maybe'), added('maybe'), added('fine')],
    );
    assert.equal(result.violations.length, 3, result.violations.join('\n'));
  });

  test('recovery beyond the bound, or never', () => {
    const faults: FaultRecord[] = [
      { kind: 'kill-leader', target: 'n1', startedAt: 0, recoveryMs: 900 },
      { kind: 'restart-gateway', startedAt: 0, recoveryMs: 1500 },
      { kind: 'lossy-links', startedAt: 0 },
    ];
    const result = recovery(history({ faults }), 1000);
    assert.deepEqual(result.violations, [
      'restart-gateway: recovered in 1500 ms > 1000 ms',
      'lossy-links: never recovered',
    ]);
  });

  test('PreVote: the isolated follower standing for election is a violation; before the cut it is not', () => {
    const faults: FaultRecord[] = [
      { kind: 'isolate-follower', target: 'n3', startedAt: 100, healedAt: 200, recoveryMs: 50 },
    ];
    const transitions: TransitionRecord[] = [
      { node: 'n3', term: 1, from: 'pre-candidate', to: 'candidate', at: 50 },
      { node: 'n3', term: 2, from: 'pre-candidate', to: 'candidate', at: 150 },
      { node: 'n2', term: 2, from: 'pre-candidate', to: 'candidate', at: 160 },
    ];
    const result = preVoteKeepsLeader(history({ faults, transitions }));
    assert.deepEqual(result.violations, [
      'isolated n3 became a candidate in term 2 (pre-candidate → candidate)',
    ]);
  });
});
