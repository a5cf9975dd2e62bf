/** createTask, updateTask, deleteTask on the in-memory store: each test on its own node. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { inMemoryNode, N1, refusal } from '../../test-support/in-memory-commands.js';

/** A node with one task created (version 1, TODO). */
async function withTask(title = 'write the report') {
  const node = inMemoryNode();
  const task = await node.commands.createTask({ title });
  return { ...node, task };
}

/** Another request's update, appended straight to the store. */
function concurrentUpdate(node: ReturnType<typeof inMemoryNode>, id: string, title: string) {
  return async () => {
    const version = node.store.all().filter((e) => e.stream === `task-${id}`).length;
    await node.store.append(N1, [
      {
        stream: `task-${id}`,
        expectedVersion: version,
        events: [{ type: 'TaskUpdated', data: { id, title } }],
      },
    ]);
  };
}

describe('createTask', () => {
  test('creates a TODO task at version 1, written by this node', async () => {
    const node = inMemoryNode();
    const task = await node.commands.createTask({ title: '  plan  ', description: 'a\nb' });
    assert.match(task.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...task, createdAt: undefined, updatedAt: undefined },
      {
        id: task.id,
        title: 'plan',
        description: 'a\nb',
        status: 'TODO',
        createdBy: 'n1',
        version: 1,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.equal(task.createdAt.getTime(), task.updatedAt.getTime());
    assert.deepEqual(
      node.events('task-').map((e) => [e.stream, e.type]),
      [[`task-${task.id}`, 'TaskCreated']],
    );
  });

  test('may create a task already DONE', async () => {
    const { commands } = inMemoryNode();
    assert.equal((await commands.createTask({ title: 'imported', status: 'DONE' })).status, 'DONE');
  });

  test('a bad title is BAD_USER_INPUT and writes nothing', async () => {
    const node = inMemoryNode();
    const error = await refusal(node.commands.createTask({ title: '   ' }));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.match(error.message, /^title: must not be empty/);
    assert.equal(node.store.appendsTried, 0);
  });

  test('a repeated key answers with the first task and writes nothing', async () => {
    const node = inMemoryNode();
    const first = await node.commands.createTask({ title: 'once' }, 'create-1');
    const again = await node.commands.createTask({ title: 'twice?' }, 'create-1');
    assert.deepEqual(again, first);
    assert.equal(node.events('task-').length, 1);
  });

  test('a key used for another kind of command is BAD_USER_INPUT', async () => {
    const { commands, task } = await withTask();
    await commands.updateTask(task.id, { title: 'renamed' }, undefined, 'used-by-update');
    const error = await refusal(commands.createTask({ title: 'x' }, 'used-by-update'));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.equal(error.message, 'idempotencyKey used-by-update was already used for another kind of command');
  });
});

describe('updateTask', () => {
  test('changes only what is given; a status transition bumps the version', async () => {
    const { commands, task } = await withTask();
    const updated = await commands.updateTask(task.id, { status: 'IN_PROGRESS' });
    assert.equal(updated.status, 'IN_PROGRESS');
    assert.equal(updated.title, task.title);
    assert.equal(updated.version, 2);
    assert.equal(updated.createdAt.getTime(), task.createdAt.getTime());
    const done = await commands.updateTask(task.id, { status: 'DONE', description: 'shipped' }, 2);
    assert.deepEqual([done.status, done.description, done.version], ['DONE', 'shipped', 3]);
  });

  test('DONE → TODO is refused with the way out', async () => {
    const { commands, task } = await withTask();
    await commands.updateTask(task.id, { status: 'DONE' });
    const error = await refusal(commands.updateTask(task.id, { status: 'TODO' }));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.equal(error.message, 'status: cannot go from DONE to TODO: reopen to IN_PROGRESS first');
  });

  test('an update that changes nothing appends nothing', async () => {
    const node = await withTask('same');
    const again = await node.commands.updateTask(node.task.id, { title: 'same', status: 'TODO' });
    assert.equal(again.version, 1);
    assert.equal(node.events('task-').length, 1);
  });

  test('a stale expectedVersion is CONFLICT with both versions', async () => {
    const { commands, task } = await withTask();
    await commands.updateTask(task.id, { title: 'b' });
    const error = await refusal(commands.updateTask(task.id, { title: 'c' }, 1));
    assert.equal(error.code, 'CONFLICT');
    assert.deepEqual(
      { expected: error.extensions.expectedVersion, actual: error.extensions.actualVersion },
      { expected: 1, actual: 2 },
    );
  });

  test('a missing, malformed or deleted task is NOT_FOUND', async () => {
    const { commands, task } = await withTask();
    const missing = randomUUID();
    for (const [id, message] of [
      [missing, `task ${missing} does not exist`],
      ['not-a-uuid', 'no task not-a-uuid'],
    ] as const) {
      const error = await refusal(commands.updateTask(id, { title: 'x' }));
      assert.deepEqual([error.code, error.message], ['NOT_FOUND', message]);
    }
    await commands.deleteTask(task.id);
    const error = await refusal(commands.updateTask(task.id, { title: 'x' }));
    assert.deepEqual([error.code, error.message], ['NOT_FOUND', `task ${task.id} was deleted`]);
  });

  test('decides again after a concurrent writer, keeping both changes', async () => {
    const node = await withTask();
    node.store.beforeNextAppend(concurrentUpdate(node, node.task.id, 'theirs'));
    const updated = await node.commands.updateTask(node.task.id, { status: 'DONE' });
    assert.deepEqual([updated.title, updated.status, updated.version], ['theirs', 'DONE', 3]);
  });

  test('with a pinned version, a concurrent writer is the client’s CONFLICT (no retry)', async () => {
    const node = await withTask();
    node.store.beforeNextAppend(concurrentUpdate(node, node.task.id, 'theirs'));
    const error = await refusal(node.commands.updateTask(node.task.id, { status: 'DONE' }, 1));
    assert.equal(error.code, 'CONFLICT');
    assert.equal(error.message, `task ${node.task.id} changed concurrently; reload and retry`);
    assert.deepEqual([error.extensions.expectedVersion, error.extensions.actualVersion], [1, 2]);
    assert.equal(node.store.appendsTried, 3, 'the create, the concurrent update, one attempt');
  });

  test('gives up after five attempts that each met a concurrent writer', async () => {
    const node = await withTask();
    for (let i = 0; i < 5; i++) {
      node.store.beforeNextAppend(concurrentUpdate(node, node.task.id, `theirs-${i}`));
    }
    const error = await refusal(node.commands.updateTask(node.task.id, { status: 'DONE' }));
    assert.equal(error.code, 'CONFLICT');
    assert.deepEqual([error.extensions.expectedVersion, error.extensions.actualVersion], [undefined, 6]);
    assert.equal(node.events('task-').length, 6, 'the create and the five concurrent updates only');
  });

  test('a repeated key answers as the first attempt did, though the task moved on', async () => {
    const node = await withTask();
    const first = await node.commands.updateTask(node.task.id, { title: 'mine' }, undefined, 'update-1');
    await node.commands.updateTask(node.task.id, { title: 'later' });
    const tried = node.store.appendsTried;
    // The pinned version is stale by now: the repeat still answers, not CONFLICT.
    const again = await node.commands.updateTask(node.task.id, { title: 'mine' }, 1, 'update-1');
    assert.deepEqual(again, first);
    assert.equal(node.store.appendsTried, tried, 'nothing tried');
  });

  test('a key used for another task is BAD_USER_INPUT', async () => {
    const node = await withTask();
    const other = await node.commands.createTask({ title: 'other' });
    await node.commands.updateTask(other.id, { title: 'o2' }, undefined, 'shared');
    const error = await refusal(node.commands.updateTask(node.task.id, { title: 'x' }, undefined, 'shared'));
    assert.deepEqual(
      [error.code, error.message],
      ['BAD_USER_INPUT', 'idempotencyKey shared was used for another task'],
    );
  });

  test('a key first used to delete the task answers NOT_FOUND', async () => {
    const { commands, task } = await withTask();
    await commands.deleteTask(task.id, undefined, 'gone');
    const error = await refusal(commands.updateTask(task.id, { title: 'x' }, undefined, 'gone'));
    assert.deepEqual([error.code, error.message], ['NOT_FOUND', `task ${task.id} was deleted`]);
  });
});

describe('deleteTask', () => {
  test('deletes once; a second delete is NOT_FOUND', async () => {
    const node = await withTask();
    assert.equal(await node.commands.deleteTask(node.task.id, 1), true);
    assert.deepEqual(
      node.events('task-').map((e) => e.type),
      ['TaskCreated', 'TaskDeleted'],
    );
    const error = await refusal(node.commands.deleteTask(node.task.id));
    assert.deepEqual([error.code, error.message], ['NOT_FOUND', `task ${node.task.id} was deleted`]);
  });

  test('a repeated delete with its key answers true and writes nothing', async () => {
    const node = await withTask();
    assert.equal(await node.commands.deleteTask(node.task.id, 1, 'delete-1'), true);
    assert.equal(await node.commands.deleteTask(node.task.id, 1, 'delete-1'), true);
    assert.equal(node.events('task-').length, 2);
  });

  test('a stale expectedVersion is CONFLICT', async () => {
    const { commands, task } = await withTask();
    const error = await refusal(commands.deleteTask(task.id, 0));
    assert.equal(error.code, 'CONFLICT');
    assert.deepEqual([error.extensions.expectedVersion, error.extensions.actualVersion], [0, 1]);
  });
});

describe('the database primary lost mid-write', () => {
  test('is SERVICE_UNAVAILABLE asking for a retry with the same key, not an internal error', async () => {
    const node = await withTask();
    node.store.beforeNextAppend(() => {
      // What PostgreSQL answers once a failover manager demoted the server under us.
      throw Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    });
    const error = await refusal(node.commands.updateTask(node.task.id, { title: 'during failover' }));
    assert.equal(error.code, 'SERVICE_UNAVAILABLE');
    assert.match(error.message, /retry with the same Idempotency-Key/);
    assert.equal(node.events('task-').length, 1);
  });
});

describe('fence loss', () => {
  test('a newer fence refuses the write as NOT_LEADER naming the new leader, and tells leadership', async () => {
    const node = await withTask();
    node.store.claimFence({ term: 2, nodeId: 'n2' });
    const error = await refusal(node.commands.updateTask(node.task.id, { title: 'late' }));
    assert.equal(error.code, 'NOT_LEADER');
    assert.deepEqual(error.extensions.leader, { id: 'n2', url: 'http://n2' });
    assert.deepEqual(
      node.lost.map((e) => e.fence),
      [{ term: 2, nodeId: 'n2' }],
    );
    assert.equal(node.events('task-').length, 1);
  });

  test('a create under a lost fence writes nothing', async () => {
    const node = inMemoryNode();
    node.store.claimFence({ term: 3, nodeId: 'n3' });
    assert.equal((await refusal(node.commands.createTask({ title: 'x' }))).code, 'NOT_LEADER');
    assert.deepEqual(node.store.all(), []);
  });
});
