/** createTask, updateTask, deleteTask: the task decider through handleCommand. */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../api/errors.js';
import type { TaskDto, TaskInput, TaskPatch } from '../../api/ports.js';
import { isUuid } from '../../common/uuid.js';
import { streams } from '../../schema/events.js';
import { type TaskCommand, type TaskEvent, taskDecider } from '../domain/task-decider.js';
import type { VersionConflictError } from '../store/store-errors.js';
import { taskAnswer } from './answers.js';
import { type CommandContext, handleCommand } from './handle-command.js';

export async function createTask(
  context: CommandContext,
  input: TaskInput,
  idempotencyKey: string | undefined,
): Promise<TaskDto> {
  const id = randomUUID();
  const command: TaskCommand = {
    type: 'CreateTask',
    id,
    title: input.title,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.status === undefined ? {} : { status: input.status }),
    createdBy: context.fence.nodeId,
  };
  // A repeat answers with the task the first attempt created (another id than this one).
  return taskAnswer(
    await handleCommand(taskDecider, streams.task(id), command, {
      ...context,
      idempotencyKey,
      repeatOf: ['TaskCreated'],
      newStream: true,
    }),
  );
}

export async function updateTask(
  context: CommandContext,
  id: string,
  patch: TaskPatch,
  expectedVersion: number | undefined,
  idempotencyKey: string | undefined,
): Promise<TaskDto> {
  const result = await onTask(
    context,
    id,
    {
      type: 'UpdateTask',
      id,
      ...(patch.title === undefined ? {} : { title: patch.title }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...(patch.status === undefined ? {} : { status: patch.status }),
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    },
    expectedVersion,
    idempotencyKey,
  );
  // Only a repeat can answer so: its key was first used to delete this task.
  if (result.state.deleted) throw ApiError.notFound(`task ${id} was deleted`);
  return taskAnswer(result);
}

export async function deleteTask(
  context: CommandContext,
  id: string,
  expectedVersion: number | undefined,
  idempotencyKey: string | undefined,
): Promise<boolean> {
  const command: TaskCommand = {
    type: 'DeleteTask',
    id,
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  };
  await onTask(context, id, command, expectedVersion, idempotencyKey);
  return true;
}

/** An update or delete: a repeat of either (on this task only) answers as the first did. */
function onTask(
  context: CommandContext,
  id: string,
  command: TaskCommand,
  expectedVersion: number | undefined,
  idempotencyKey: string | undefined,
) {
  if (!isUuid(id)) throw ApiError.notFound(`no task ${id}`);
  const repeatOf: TaskEvent['type'][] = ['TaskUpdated', 'TaskDeleted'];
  return handleCommand(taskDecider, streams.task(id), command, {
    ...context,
    idempotencyKey,
    repeatOf,
    keyElsewhere: (key) => ApiError.badUserInput(`idempotencyKey ${key} was used for another task`),
    // A pinned expectedVersion was checked by the decider; a conflict at the append means another
    // writer slipped in between, which with a pinned version is the client's conflict.
    pinned: expectedVersion !== undefined,
    conflict: (error: VersionConflictError) =>
      ApiError.conflict(`task ${id} changed concurrently; reload and retry`, {
        ...(expectedVersion === undefined ? {} : { expectedVersion }),
        actualVersion: error.actual,
      }),
  });
}
