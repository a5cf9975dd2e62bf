/**
 * What a chaos run records: every client operation with its outcome, every fault the nemesis
 * injected, every election transition the nodes logged, and (read at the end) the event table.
 * The checker (checker.ts) judges only these records, so a failed run can be judged again, and
 * its history replayed, from the saved JSON.
 */

/**
 * `ok`: acknowledged, must be in the log exactly once. `error`: refused for sure (CONFLICT, a
 * validation error, a connection refused before anything was sent), must not be in the log.
 * `unknown`: the client cannot know (a timeout, a reset, NO_LEADER after the gateway's wait):
 * at most once.
 */
export type Outcome = 'ok' | 'error' | 'unknown';

export interface TaskOperation {
  readonly kind: 'createTask' | 'updateTask';
  readonly client: number;
  /** The title this operation writes: unique per operation, so its event can be found. */
  readonly title: string;
  readonly taskId?: string;
  readonly expectedVersion?: number;
  outcome: Outcome;
  /** Attempts made with the same idempotency key. */
  attempts: number;
  code?: string;
  /** The task (and version) the acknowledgement named. */
  result?: { id: string; version: number };
  readonly startedAt: number;
  endedAt?: number;
}

export interface QueueMessage {
  readonly messageId: string;
  readonly url: string;
  /** Published this many times with the same messageId (a redelivery, seen by the consumer). */
  readonly copies: number;
  /** `ok` once the broker confirmed it; `unknown` when the connection died first. */
  outcome: Outcome;
}

export type FaultKind =
  | 'kill-leader'
  | 'pause-leader'
  | 'partition-leader'
  | 'isolate-follower'
  | 'lossy-links'
  | 'restart-rabbitmq'
  | 'restart-gateway'
  /** kill -9 the Patroni primary's host (Patroni and PostgreSQL): the standby is promoted. */
  | 'failover-database'
  /** A planned `patronictl switchover` to the sync standby. */
  | 'switchover-database';

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target?: string;
  readonly startedAt: number;
  healedAt?: number;
  /** From the heal to the first write acknowledged through the gateway. */
  recoveryMs?: number;
  /** The leader (and term) all running nodes followed when the fault began. */
  leaderBefore?: { id: string; term: number };
}

export interface TransitionRecord {
  readonly node: string;
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly at: number;
}

export interface EventRow {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly term: number;
  readonly nodeId: string;
}

export interface History {
  readonly seed: number;
  readonly operations: TaskOperation[];
  readonly messages: QueueMessage[];
  readonly faults: FaultRecord[];
  readonly transitions: TransitionRecord[];
}
