import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventSchemas, TASK_STATUSES, type TaskStatus } from '../../schema/events.js';
import { DomainError } from './domain-error.js';
import {
  canTransition,
  type DeleteTask,
  decideTask,
  evolveTask,
  initialTaskState,
  type TaskCommand,
  type TaskEvent,
  type TaskState,
  type UpdateTask,
} from './task-decider.js';

const ID = '0b8a3f6e-2c1d-4e5f-8a9b-0c1d2e3f4a5b';
const OTHER = '1c9b4a7f-3d2e-4f60-9bac-1d2e3f4a5b6c';

const fold = (events: readonly TaskEvent[], from: TaskState = initialTaskState): TaskState =>
  events.reduce(evolveTask, from);

/** Run commands in order, each against the state folded so far; returns the state and every event. */
function run(commands: readonly TaskCommand[]): { state: TaskState; events: TaskEvent[] } {
  let state = initialTaskState;
  const events: TaskEvent[] = [];
  for (const c of commands) {
    const emitted = decideTask(c, state);
    state = fold(emitted, state);
    events.push(...emitted);
  }
  return { state, events };
}

const create = (over: Partial<Extract<TaskCommand, { type: 'CreateTask' }>> = {}): TaskCommand => ({
  type: 'CreateTask',
  id: ID,
  title: 'Write the deciders',
  createdBy: 'ada',
  ...over,
});

function withStatus(status: TaskStatus): TaskState {
  return run([create({ status })]).state;
}

function rejects(fn: () => unknown, code: DomainError['code'], message?: RegExp): DomainError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

describe('CreateTask', () => {
  test('emits TaskCreated with the title trimmed, no description and status TODO by default', () => {
    const events = decideTask(create({ title: '  Write the deciders  ' }), initialTaskState);
    assert.deepEqual(events, [
      {
        type: 'TaskCreated',
        data: { id: ID, title: 'Write the deciders', description: null, status: 'TODO', createdBy: 'ada' },
      },
    ]);
  });

  test('keeps a given description and status', () => {
    assert.deepEqual(decideTask(create({ description: ' notes ', status: 'DONE' }), initialTaskState), [
      {
        type: 'TaskCreated',
        data: {
          id: ID,
          title: 'Write the deciders',
          description: ' notes ',
          status: 'DONE',
          createdBy: 'ada',
        },
      },
    ]);
  });

  const bad: [string, Partial<Extract<TaskCommand, { type: 'CreateTask' }>>, RegExp][] = [
    ['an empty title', { title: '' }, /^title: must not be empty/],
    ['a blank title', { title: ' \t\n ' }, /^title: must not be empty/],
    [
      'a title of 201 characters',
      { title: 'x'.repeat(201) },
      /^title: must be at most 200 characters \(got 201\)/,
    ],
    [
      'a description of 5001 characters',
      { description: 'd'.repeat(5001) },
      /^description: must be at most 5000/,
    ],
    [
      'an unknown status',
      { status: 'WAITING' as TaskStatus },
      /^status: must be one of TODO, IN_PROGRESS, DONE/,
    ],
    ['an id that is not a UUID', { id: 'task-1' }, /^id: must be a UUID/],
    ['a blank creator', { createdBy: ' ' }, /^createdBy: is required/],
  ];
  for (const [name, over, message] of bad) {
    test(`refuses ${name} with BAD_USER_INPUT`, () => {
      rejects(() => decideTask(create(over), initialTaskState), 'BAD_USER_INPUT', message);
    });
  }

  test('accepts the limits: 200 characters of title (emoji count once), 5000 of description', () => {
    assert.equal(decideTask(create({ title: '🙂'.repeat(200) }), initialTaskState).length, 1);
    assert.equal(decideTask(create({ title: ` ${'t'.repeat(200)} ` }), initialTaskState).length, 1);
    assert.equal(decideTask(create({ description: 'd'.repeat(5000) }), initialTaskState).length, 1);
  });

  test('refuses an existing stream with CONFLICT, deleted or not', () => {
    rejects(() => decideTask(create(), withStatus('TODO')), 'CONFLICT', /already exists/);
    const deleted = run([create(), { type: 'DeleteTask', id: ID }]).state;
    rejects(() => decideTask(create(), deleted), 'CONFLICT', /already exists/);
  });
});

describe('UpdateTask', () => {
  test('emits only the fields that change', () => {
    const state = run([create({ description: 'old' })]).state;
    const events = decideTask(
      { type: 'UpdateTask', id: ID, title: ' Write the deciders ', description: 'new', status: 'TODO' },
      state,
    );
    assert.deepEqual(events, [{ type: 'TaskUpdated', data: { id: ID, description: 'new' } }]);
  });

  test('null clears the description; clearing an absent one changes nothing', () => {
    const state = run([create({ description: 'old' })]).state;
    const events = decideTask({ type: 'UpdateTask', id: ID, description: null }, state);
    assert.deepEqual(events, [{ type: 'TaskUpdated', data: { id: ID, description: null } }]);
    assert.equal(fold(events, state).task?.description, null);
    assert.deepEqual(decideTask({ type: 'UpdateTask', id: ID, description: null }, fold(events, state)), []);
  });

  test('an update that changes nothing is no event', () => {
    const state = run([create({ description: 'd' })]).state;
    assert.deepEqual(
      decideTask(
        { type: 'UpdateTask', id: ID, title: 'Write the deciders', description: 'd', status: 'TODO' },
        state,
      ),
      [],
    );
  });

  test('an update with no fields at all is BAD_USER_INPUT', () => {
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID }, withStatus('TODO')),
      'BAD_USER_INPUT',
      /^nothing to update/,
    );
  });

  test('validates the fields it is given', () => {
    const state = withStatus('TODO');
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, title: '  ' }, state),
      'BAD_USER_INPUT',
      /^title:/,
    );
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, description: 'x'.repeat(5001) }, state),
      'BAD_USER_INPUT',
      /^description:/,
    );
  });

  test('a missing or deleted task is NOT_FOUND', () => {
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, title: 't' }, initialTaskState),
      'NOT_FOUND',
      /does not exist/,
    );
    const deleted = run([create(), { type: 'DeleteTask', id: ID }]).state;
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, title: 't' }, deleted),
      'NOT_FOUND',
      /was deleted/,
    );
  });

  test('a state folded from another stream is a bug, not a user error', () => {
    assert.throws(
      () => decideTask({ type: 'UpdateTask', id: OTHER, title: 't' }, withStatus('TODO')),
      (e: unknown) => e instanceof Error && !(e instanceof DomainError),
    );
  });

  // [from, to, allowed]: every pair of statuses.
  const transitions: [TaskStatus, TaskStatus, boolean][] = [
    ['TODO', 'TODO', true],
    ['TODO', 'IN_PROGRESS', true],
    ['TODO', 'DONE', true],
    ['IN_PROGRESS', 'TODO', true],
    ['IN_PROGRESS', 'IN_PROGRESS', true],
    ['IN_PROGRESS', 'DONE', true],
    ['DONE', 'TODO', false],
    ['DONE', 'IN_PROGRESS', true],
    ['DONE', 'DONE', true],
  ];
  for (const [from, to, allowed] of transitions) {
    test(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(canTransition(from, to), allowed);
      const state = withStatus(from);
      const command: TaskCommand = { type: 'UpdateTask', id: ID, status: to };
      if (!allowed) {
        const error = rejects(
          () => decideTask(command, state),
          'BAD_USER_INPUT',
          /reopen to IN_PROGRESS first/,
        );
        assert.deepEqual(error.details, { field: 'status', from, to });
        return;
      }
      const expected: TaskEvent[] =
        from === to ? [] : [{ type: 'TaskUpdated', data: { id: ID, status: to } }];
      assert.deepEqual(decideTask(command, state), expected);
    });
  }

  test('a refused transition emits nothing even with other valid changes', () => {
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, title: 'new', status: 'TODO' }, withStatus('DONE')),
      'BAD_USER_INPUT',
    );
  });
});

describe('DeleteTask', () => {
  test('emits TaskDeleted', () => {
    assert.deepEqual(decideTask({ type: 'DeleteTask', id: ID }, withStatus('DONE')), [
      { type: 'TaskDeleted', data: { id: ID } },
    ]);
  });

  test('a missing or already deleted task is NOT_FOUND', () => {
    rejects(() => decideTask({ type: 'DeleteTask', id: ID }, initialTaskState), 'NOT_FOUND');
    const deleted = run([create(), { type: 'DeleteTask', id: ID }]).state;
    rejects(() => decideTask({ type: 'DeleteTask', id: ID }, deleted), 'NOT_FOUND', /was deleted/);
  });
});

describe('expectedVersion', () => {
  // After create (1) and one real update (2), the stream is at version 2.
  const state = run([create(), { type: 'UpdateTask', id: ID, status: 'IN_PROGRESS' }]).state;

  test('the stream version counts the events applied', () => {
    assert.equal(state.version, 2);
  });

  const cases: [string, DeleteTask | UpdateTask][] = [
    ['UpdateTask', { type: 'UpdateTask', id: ID, title: 'renamed', expectedVersion: 1 }],
    ['DeleteTask', { type: 'DeleteTask', id: ID, expectedVersion: 3 }],
  ];
  for (const [name, command] of cases) {
    test(`${name} with a stale expectedVersion is CONFLICT with expected and actual`, () => {
      const error = rejects(() => decideTask(command, state), 'CONFLICT', /expected version \d, it is at 2/);
      assert.deepEqual(error.details, { expected: command.expectedVersion, actual: 2 });
    });
    test(`${name} with the current expectedVersion goes through`, () => {
      assert.equal(decideTask({ ...command, expectedVersion: 2 }, state).length, 1);
    });
  }

  test('is checked even when the update would change nothing', () => {
    rejects(
      () => decideTask({ type: 'UpdateTask', id: ID, status: 'IN_PROGRESS', expectedVersion: 0 }, state),
      'CONFLICT',
    );
    assert.deepEqual(
      decideTask({ type: 'UpdateTask', id: ID, status: 'IN_PROGRESS', expectedVersion: 2 }, state),
      [],
    );
  });

  test('a negative or fractional expectedVersion is BAD_USER_INPUT', () => {
    for (const expectedVersion of [-1, 1.5, Number.NaN]) {
      rejects(() => decideTask({ type: 'DeleteTask', id: ID, expectedVersion }, state), 'BAD_USER_INPUT');
    }
  });

  test('NOT_FOUND wins over a stale expectedVersion', () => {
    rejects(
      () => decideTask({ type: 'DeleteTask', id: ID, expectedVersion: 7 }, initialTaskState),
      'NOT_FOUND',
    );
  });
});

describe('evolveTask', () => {
  test('folds a full history', () => {
    const history: TaskEvent[] = [
      {
        type: 'TaskCreated',
        data: { id: ID, title: 'a', description: 'first', status: 'TODO', createdBy: 'ada' },
      },
      { type: 'TaskUpdated', data: { id: ID, status: 'IN_PROGRESS' } },
      { type: 'TaskUpdated', data: { id: ID, title: 'b', description: null } },
      { type: 'TaskUpdated', data: { id: ID, status: 'DONE' } },
      { type: 'TaskUpdated', data: { id: ID, status: 'IN_PROGRESS' } },
      { type: 'TaskDeleted', data: { id: ID } },
    ];
    const states = history.map((_, i) => fold(history.slice(0, i + 1)));
    assert.deepEqual(
      states.map((s) => s.version),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(states[2], {
      exists: true,
      deleted: false,
      version: 3,
      task: { id: ID, title: 'b', description: null, status: 'IN_PROGRESS', createdBy: 'ada' },
    });
    assert.deepEqual(states[5], {
      exists: true,
      deleted: true,
      version: 6,
      task: { id: ID, title: 'b', description: null, status: 'IN_PROGRESS', createdBy: 'ada' },
    });
  });

  test('does not mutate the state it is given', () => {
    const before = withStatus('TODO');
    const copy = structuredClone(before);
    evolveTask(before, { type: 'TaskUpdated', data: { id: ID, title: 'changed' } });
    assert.deepEqual(before, copy);
  });
});

/** A small seeded PRNG (mulberry32): the same seed always gives the same sequence. */
function prng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)] as (typeof xs)[number] };
}

test('property: for 1000 random command sequences, folding the accepted events gives the state the decider saw', () => {
  const titles = ['a', ' a ', 'b', '', 'x'.repeat(201), 'Write the deciders'];
  const descriptions = [undefined, null, '', 'notes', 'd'.repeat(5001)];
  const statuses = [undefined, ...TASK_STATUSES];
  for (let seed = 1; seed <= 1000; seed++) {
    const rng = prng(seed);
    let state = initialTaskState;
    const history: TaskEvent[] = [];
    const steps = 1 + rng.int(30);
    for (let step = 0; step < steps; step++) {
      // expectedVersion: usually absent, sometimes right, sometimes off by a little.
      const expectedVersion = rng.pick([undefined, undefined, state.version, state.version + rng.int(3) - 1]);
      const kind = rng.pick(['CreateTask', 'UpdateTask', 'UpdateTask', 'UpdateTask', 'DeleteTask'] as const);
      const command: TaskCommand =
        kind === 'CreateTask'
          ? {
              type: kind,
              id: ID,
              title: rng.pick(titles),
              description: rng.pick(descriptions),
              status: rng.pick(statuses),
              createdBy: 'ada',
            }
          : kind === 'UpdateTask'
            ? {
                type: kind,
                id: ID,
                title: rng.pick([undefined, ...titles]),
                description: rng.pick(descriptions),
                status: rng.pick(statuses),
                expectedVersion,
              }
            : { type: kind, id: ID, expectedVersion };
      const where = `seed ${seed}, step ${step}, ${JSON.stringify(command)}`;
      let events: TaskEvent[];
      try {
        events = decideTask(command, state);
      } catch (error) {
        assert.ok(error instanceof DomainError, `${where}: ${String(error)}`);
        continue; // a refused command leaves the state as it was
      }
      for (const event of events) {
        // Every emitted event is one the event store will accept.
        assert.ok(
          eventSchemas[event.type].safeParse(event.data).success,
          `${where}: ${JSON.stringify(event)}`,
        );
        // An update carries only real changes.
        if (event.type === 'TaskUpdated') {
          const { id: _id, ...changes } = event.data;
          assert.ok(Object.keys(changes).length > 0, where);
          for (const [k, v] of Object.entries(changes)) {
            assert.notEqual(state.task?.[k as keyof typeof changes], v, `${where}: ${k} did not change`);
          }
        }
      }
      const next = fold(events, state);
      assert.equal(next.version, state.version + events.length, where);
      assert.ok(next.version >= state.version, where);
      if (state.deleted) assert.deepEqual(events, [], `${where}: a deleted task stays deleted`);
      history.push(...events);
      state = next;
      assert.deepEqual(fold(history), state, where);
    }
    assert.equal(state.version, history.length, `seed ${seed}`);
  }
});
