/**
 * The task aggregate, one stream `task-<id>` per task, as a pure decider: `decideTask` turns a
 * command and the folded state into events (or throws a DomainError), `evolveTask` folds one
 * event into the state. No I/O, clock or randomness: ids come in with the command.
 *
 * Status transitions (a status equal to the current one is no transition, just no change):
 *
 *   create ─▶ TODO ◀──────▶ IN_PROGRESS ◀──────▶ DONE
 *              │                                ▲
 *              └────────── quick close ─────────┘
 *
 *   TODO → IN_PROGRESS, TODO → DONE, IN_PROGRESS → TODO, IN_PROGRESS → DONE, DONE → IN_PROGRESS.
 *   DONE → TODO is refused: reopen to IN_PROGRESS first, so a reopened task is visibly being worked on.
 *   A task may be created in any status (imports of finished work).
 *
 * Checks run in a fixed order so the same command always gets the same answer: the command's own
 * shape (BAD_USER_INPUT), then existence (NOT_FOUND / CONFLICT), then expectedVersion (CONFLICT),
 * then rules that depend on the state (the status transition).
 */
import { z } from 'zod';
import { charCount } from '../../common/char-count.js';
import { type DomainEvent, TASK_STATUSES, type TaskStatus } from '../../schema/events.js';
import type { Decider } from './decider.js';
import { DomainError } from './domain-error.js';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 5000;

export type TaskEvent = Extract<DomainEvent, { type: 'TaskCreated' | 'TaskUpdated' | 'TaskDeleted' }>;

export interface Task {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly status: TaskStatus;
  readonly createdBy: string;
}

export interface TaskState {
  /** A TaskCreated is in the stream; stays true after deletion, so an id is never reused. */
  readonly exists: boolean;
  readonly deleted: boolean;
  /** Events applied so far in the stream: what an expectedVersion is compared with. */
  readonly version: number;
  readonly task?: Task;
}

export interface CreateTask {
  readonly type: 'CreateTask';
  readonly id: string;
  readonly title: string;
  readonly description?: string | null;
  readonly status?: TaskStatus;
  readonly createdBy: string;
}

export interface UpdateTask {
  readonly type: 'UpdateTask';
  readonly id: string;
  readonly title?: string;
  /** `null` clears the description; absent leaves it as it is. */
  readonly description?: string | null;
  readonly status?: TaskStatus;
  readonly expectedVersion?: number;
}

export interface DeleteTask {
  readonly type: 'DeleteTask';
  readonly id: string;
  readonly expectedVersion?: number;
}

export type TaskCommand = CreateTask | UpdateTask | DeleteTask;

export const initialTaskState: TaskState = { exists: false, deleted: false, version: 0 };

const ALLOWED: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  TODO: ['IN_PROGRESS', 'DONE'],
  IN_PROGRESS: ['TODO', 'DONE'],
  DONE: ['IN_PROGRESS'],
};

/** Whether a task may move from one status to another; staying put is always allowed. */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || ALLOWED[from].includes(to);
}

const uuid = z.uuid();

export function decideTask(command: TaskCommand, state: TaskState): TaskEvent[] {
  switch (command.type) {
    case 'CreateTask':
      return create(command, state);
    case 'UpdateTask':
      return update(command, state);
    case 'DeleteTask':
      return remove(command, state);
  }
}

export function evolveTask(state: TaskState, event: TaskEvent): TaskState {
  const version = state.version + 1;
  switch (event.type) {
    case 'TaskCreated':
      return { exists: true, deleted: false, version, task: { ...event.data } };
    case 'TaskUpdated': {
      // The log is the truth: an update without a task (a corrupt stream) still counts as a version.
      if (!state.task) return { ...state, version };
      const { id: _id, ...changes } = event.data;
      const task: Task = {
        ...state.task,
        ...(changes.title !== undefined && { title: changes.title }),
        ...(changes.description !== undefined && { description: changes.description }),
        ...(changes.status !== undefined && { status: changes.status }),
      };
      return { ...state, version, task };
    }
    case 'TaskDeleted':
      return { ...state, deleted: true, version };
  }
}

export const taskDecider: Decider<TaskCommand, TaskEvent, TaskState> = {
  decide: decideTask,
  evolve: evolveTask,
  initialState: initialTaskState,
  eventTypes: ['TaskCreated', 'TaskUpdated', 'TaskDeleted'],
};

function create(c: CreateTask, state: TaskState): TaskEvent[] {
  if (!uuid.safeParse(c.id).success) throw DomainError.badInput('id: must be a UUID', { field: 'id' });
  const title = validTitle(c.title);
  const description = validDescription(c.description ?? null);
  const status = validStatus(c.status ?? 'TODO');
  if (typeof c.createdBy !== 'string' || c.createdBy.trim() === '') {
    throw DomainError.badInput('createdBy: is required', { field: 'createdBy' });
  }
  if (state.exists) throw DomainError.conflict(`task ${c.id} already exists`, { id: c.id });
  return [{ type: 'TaskCreated', data: { id: c.id, title, description, status, createdBy: c.createdBy } }];
}

function update(c: UpdateTask, state: TaskState): TaskEvent[] {
  if (c.title === undefined && c.description === undefined && c.status === undefined) {
    throw DomainError.badInput('nothing to update: give at least one of title, description, status');
  }
  const title = c.title === undefined ? undefined : validTitle(c.title);
  const description = c.description === undefined ? undefined : validDescription(c.description);
  const status = c.status === undefined ? undefined : validStatus(c.status);
  const task = existing(c.id, state);
  checkVersion(c.expectedVersion, state);
  if (status !== undefined && !canTransition(task.status, status)) {
    const hint = task.status === 'DONE' && status === 'TODO' ? ': reopen to IN_PROGRESS first' : '';
    throw DomainError.badInput(`status: cannot go from ${task.status} to ${status}${hint}`, {
      field: 'status',
      from: task.status,
      to: status,
    });
  }
  // Only what actually changes goes into the event; an update that changes nothing is no event.
  const changes = {
    ...(title !== undefined && title !== task.title && { title }),
    ...(description !== undefined && description !== task.description && { description }),
    ...(status !== undefined && status !== task.status && { status }),
  };
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'TaskUpdated', data: { id: c.id, ...changes } }];
}

function remove(c: DeleteTask, state: TaskState): TaskEvent[] {
  existing(c.id, state);
  checkVersion(c.expectedVersion, state);
  return [{ type: 'TaskDeleted', data: { id: c.id } }];
}

function existing(id: string, state: TaskState): Task {
  if (!state.exists || !state.task) throw DomainError.notFound(`task ${id} does not exist`, { id });
  if (state.deleted) throw DomainError.notFound(`task ${id} was deleted`, { id });
  // A mismatch means the caller folded the wrong stream: a bug, not a user error.
  if (state.task.id !== id)
    throw new Error(`task-decider: command for ${id} given the state of ${state.task.id}`);
  return state.task;
}

function checkVersion(expected: number | undefined, state: TaskState): void {
  if (expected === undefined) return;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw DomainError.badInput('expectedVersion: must be a whole number ≥ 0', { field: 'expectedVersion' });
  }
  if (expected !== state.version) {
    throw DomainError.conflict(
      `the task was changed meanwhile: expected version ${expected}, it is at ${state.version}`,
      { expected, actual: state.version },
    );
  }
}

function validTitle(title: unknown): string {
  if (typeof title !== 'string') throw DomainError.badInput('title: must be text', { field: 'title' });
  const trimmed = title.trim();
  const n = charCount(trimmed);
  if (n < 1) throw DomainError.badInput('title: must not be empty', { field: 'title' });
  if (n > TITLE_MAX) {
    throw DomainError.badInput(`title: must be at most ${TITLE_MAX} characters (got ${n})`, {
      field: 'title',
    });
  }
  return trimmed;
}

/** Kept verbatim (not trimmed): whitespace may be formatting. */
function validDescription(description: unknown): string | null {
  if (description === null) return null;
  if (typeof description !== 'string') {
    throw DomainError.badInput('description: must be text or null', { field: 'description' });
  }
  const n = charCount(description);
  if (n > DESCRIPTION_MAX) {
    throw DomainError.badInput(`description: must be at most ${DESCRIPTION_MAX} characters (got ${n})`, {
      field: 'description',
    });
  }
  return description;
}

function validStatus(status: unknown): TaskStatus {
  if (!(TASK_STATUSES as readonly unknown[]).includes(status)) {
    throw DomainError.badInput(`status: must be one of ${TASK_STATUSES.join(', ')}`, { field: 'status' });
  }
  return status as TaskStatus;
}
