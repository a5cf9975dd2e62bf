/**
 * Judges a chaos run from its records alone (history.ts), the way Jepsen's checkers judge a
 * database: what the clients were told against what the log holds. Pure: no I/O, so each rule
 * is tested on small hand-made histories (checker.test.ts), failing ones included.
 */
import type { EventRow, History, TaskOperation } from './history.js';

export interface CheckResult {
  readonly name: string;
  /** How many things this check looked at (operations, events, terms…). */
  readonly checked: number;
  readonly violations: string[];
}

export interface CheckOptions {
  /** A heal must be followed by an acknowledged write within this many ms. */
  readonly recoveryBoundMs: number;
}

const TASK_EVENTS = new Set(['TaskCreated', 'TaskUpdated']);
const LISTING_EVENTS = new Set(['ListingAdded', 'ListingChanged']);

export function check(history: History, events: readonly EventRow[], options: CheckOptions): CheckResult[] {
  return [
    writesExactlyOnce(history.operations, events),
    noPhantomWrites(history.operations, events),
    fencedTerms(events),
    oneLeaderPerTerm(history),
    contiguousVersions(events),
    queueExactlyOnce(history, events),
    recovery(history, options.recoveryBoundMs),
    preVoteKeepsLeader(history),
  ];
}

/** Every title an operation wrote, with the events that carry it. */
function eventsByTitle(events: readonly EventRow[]): Map<string, EventRow[]> {
  const byTitle = new Map<string, EventRow[]>();
  for (const e of events) {
    if (!TASK_EVENTS.has(e.type) || typeof e.data.title !== 'string') continue;
    const list = byTitle.get(e.data.title) ?? [];
    list.push(e);
    byTitle.set(e.data.title, list);
  }
  return byTitle;
}

function describe(op: TaskOperation): string {
  const target = op.taskId ? ` of ${op.taskId} at version ${op.expectedVersion}` : '';
  return `${op.kind}${target} "${op.title}" (client ${op.client}, ${op.outcome}${op.code ? ` ${op.code}` : ''})`;
}

/** Acknowledged: present exactly once, where it was acknowledged. Refused: absent. Unknown: ≤ 1. */
export function writesExactlyOnce(
  operations: readonly TaskOperation[],
  events: readonly EventRow[],
): CheckResult {
  const byTitle = eventsByTitle(events);
  const violations: string[] = [];
  for (const op of operations) {
    const found = (byTitle.get(op.title) ?? []).filter(
      (e) => e.type === (op.kind === 'createTask' ? 'TaskCreated' : 'TaskUpdated'),
    );
    if (op.outcome === 'ok' && found.length !== 1) {
      violations.push(`${describe(op)} acknowledged, found ${found.length} times in the log`);
    } else if (op.outcome === 'error' && found.length !== 0) {
      violations.push(`${describe(op)} refused, yet found ${found.length} times in the log`);
    } else if (op.outcome === 'unknown' && found.length > 1) {
      violations.push(`${describe(op)} found ${found.length} times in the log`);
    }
    const event = found[0];
    if (op.outcome === 'ok' && event && op.result) {
      const stream = `task-${op.result.id}`;
      if (event.stream !== stream || event.version !== op.result.version)
        violations.push(
          `${describe(op)} acknowledged as ${stream} v${op.result.version}, logged as ${event.stream} v${event.version}`,
        );
    }
    if (op.kind === 'updateTask' && event && op.expectedVersion !== undefined) {
      if (event.stream !== `task-${op.taskId}` || event.version !== op.expectedVersion + 1)
        violations.push(`${describe(op)} logged as ${event.stream} v${event.version}`);
    }
  }
  return {
    name: 'every acknowledged write exactly once, no refused write',
    checked: operations.length,
    violations,
  };
}

/** A task event no client asked for (a doubled or invented write). */
export function noPhantomWrites(
  operations: readonly TaskOperation[],
  events: readonly EventRow[],
): CheckResult {
  const titles = new Set(operations.map((op) => op.title));
  const violations: string[] = [];
  let checked = 0;
  for (const [title, found] of eventsByTitle(events)) {
    checked += found.length;
    if (!titles.has(title))
      violations.push(`"${title}" at position ${found[0]?.position}: no client wrote it`);
  }
  return { name: 'no write that no client made', checked, violations };
}

/** In log order terms never go back, and one node writes per term: the fence held. */
export function fencedTerms(events: readonly EventRow[]): CheckResult {
  const violations: string[] = [];
  const writer = new Map<number, string>();
  let highest = 0;
  const sorted = [...events].sort((a, b) => a.position - b.position);
  for (const e of sorted) {
    if (e.term < highest)
      violations.push(`position ${e.position} written in term ${e.term} after term ${highest}'s events`);
    highest = Math.max(highest, e.term);
    const first = writer.get(e.term);
    if (first === undefined) writer.set(e.term, e.nodeId);
    else if (first !== e.nodeId)
      violations.push(`term ${e.term} written by ${first} and ${e.nodeId} (position ${e.position})`);
  }
  return {
    name: 'fencing: no write under an older term, one writer per term',
    checked: events.length,
    violations,
  };
}

/** From the nodes' own transition logs (election safety). */
export function oneLeaderPerTerm(history: History): CheckResult {
  const leaders = new Map<number, Set<string>>();
  for (const t of history.transitions) {
    if (t.to !== 'leader') continue;
    const set = leaders.get(t.term) ?? new Set<string>();
    set.add(t.node);
    leaders.set(t.term, set);
  }
  const violations = [...leaders]
    .filter(([, nodes]) => nodes.size > 1)
    .map(([term, nodes]) => `term ${term} had leaders ${[...nodes].join(', ')}`);
  return { name: 'at most one leader per term', checked: leaders.size, violations };
}

/** Each task stream holds versions 1..n: nothing lost, doubled or skipped. */
export function contiguousVersions(events: readonly EventRow[]): CheckResult {
  const versions = new Map<string, number[]>();
  for (const e of events) {
    if (!e.stream.startsWith('task-')) continue;
    const list = versions.get(e.stream) ?? [];
    list.push(e.version);
    versions.set(e.stream, list);
  }
  const violations: string[] = [];
  for (const [stream, list] of versions) {
    list.sort((a, b) => a - b);
    const bad = list.findIndex((v, i) => v !== i + 1);
    if (bad >= 0) violations.push(`${stream}: versions ${list.join(',')}`);
  }
  return { name: "every task's versions contiguous", checked: versions.size, violations };
}

/** A confirmed message's listing is added exactly once; an unconfirmed one at most once. */
export function queueExactlyOnce(history: History, events: readonly EventRow[]): CheckResult {
  const added = new Map<string, number>();
  for (const e of events) {
    if (!LISTING_EVENTS.has(e.type) || typeof e.data.url !== 'string') continue;
    added.set(e.data.url, (added.get(e.data.url) ?? 0) + 1);
  }
  const violations: string[] = [];
  for (const m of history.messages) {
    const n = added.get(m.url) ?? 0;
    if (m.outcome === 'ok' && n !== 1)
      violations.push(`message ${m.messageId} (${m.url}, ${m.copies} copies) confirmed, stored ${n} times`);
    if (m.outcome !== 'ok' && n > 1) violations.push(`message ${m.messageId} (${m.url}) stored ${n} times`);
  }
  return { name: "every queue message's effect exactly once", checked: history.messages.length, violations };
}

export function recovery(history: History, boundMs: number): CheckResult {
  const violations: string[] = [];
  for (const f of history.faults) {
    if (f.recoveryMs === undefined)
      violations.push(`${f.kind}${f.target ? ` ${f.target}` : ''}: never recovered`);
    else if (f.recoveryMs > boundMs)
      violations.push(
        `${f.kind}${f.target ? ` ${f.target}` : ''}: recovered in ${f.recoveryMs} ms > ${boundMs} ms`,
      );
  }
  return {
    name: `a write acknowledged within ${boundMs} ms of each heal`,
    checked: history.faults.length,
    violations,
  };
}

/**
 * PreVote: a follower cut off from the others keeps asking for pre-votes and is refused, so it
 * never becomes a candidate (never raises its term), and when it comes back it does not depose
 * the leader. Judged on the follower's own transitions from the cut to the recovery after the heal.
 */
export function preVoteKeepsLeader(history: History): CheckResult {
  const isolations = history.faults.filter((f) => f.kind === 'isolate-follower');
  const violations: string[] = [];
  for (const f of isolations) {
    const end = (f.healedAt ?? Number.POSITIVE_INFINITY) + (f.recoveryMs ?? 0);
    const candidacies = history.transitions.filter(
      (t) => t.node === f.target && t.to === 'candidate' && t.at >= f.startedAt && t.at <= end,
    );
    for (const t of candidacies)
      violations.push(`isolated ${f.target} became a candidate in term ${t.term} (${t.from} → candidate)`);
  }
  return {
    name: 'PreVote: an isolated follower never stands for election',
    checked: isolations.length,
    violations,
  };
}
