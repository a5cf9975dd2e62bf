import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { taskDecider } from '../domain/task-decider.js';
import type { StoredEvent } from '../store/stored-event.js';
import { recordedOf } from './recorded-events.js';

const stored = (type: string, data: Record<string, unknown>): StoredEvent => ({
  position: 7,
  stream: 'task-x',
  version: 1,
  type,
  data,
  metadata: {},
  term: 1,
  nodeId: 'n1',
  createdAt: new Date(),
});

test('a stream read is typed by its decider; an event of another aggregate is refused, not folded', () => {
  const id = randomUUID();
  const own = stored('TaskDeleted', { id });
  assert.deepEqual(recordedOf(taskDecider, [own]), [own]);
  assert.throws(
    () => recordedOf(taskDecider, [own, stored('ListingAdded', { url: 'https://a.example/' })]),
    /^Error: stream task-x holds a ListingAdded event \(version 1\); expected one of TaskCreated, TaskUpdated, TaskDeleted$/,
  );
});
