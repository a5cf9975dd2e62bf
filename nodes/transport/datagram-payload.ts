/**
 * The datagram payload's shape, checked field by field: exactly the fields of its kind, each of
 * its type and range, no other. What it accepts is a fresh object of the message's type.
 *
 * Written by hand rather than with zod, which the rest of the project validates with: a
 * datagram is read on the path every election waits on, four times per election, and in a
 * node's process zod's parse of one took 0.04–0.09 ms per heartbeat and 0.9 ms at p50 for a
 * vote request — that path of zod's runs only in elections, so it is cold when one comes — the
 * largest share of a hop between two nodes (README, _Election_). These checks are a few
 * comparisons per field.
 */
import type { ElectionMessage } from '../election/messages.js';

export const MAX_ID_LENGTH = 64;

export interface DatagramPayload {
  /** The cluster the sender belongs to. */
  readonly cluster: string;
  /** The sender's incarnation. */
  readonly boot: number;
  /** Per-boot sequence number, from 1. */
  readonly seq: number;
  /** The sender's wall clock, ms since the epoch. */
  readonly ts: number;
  readonly msg: ElectionMessage;
}

type MessageType = ElectionMessage['type'];
type MessageOf<T extends MessageType> = Extract<ElectionMessage, { type: T }>;

/**
 * The field names of message type T, every one of them and no other: a list that misses a field
 * of messages.ts, or names one it lacks, does not compile (so the two cannot drift apart).
 */
function fieldsOf<T extends MessageType>() {
  return <const K extends readonly (keyof MessageOf<T>)[]>(
    ...keys: [Exclude<keyof MessageOf<T>, K[number]>] extends [never] ? K : never
  ): ReadonlySet<string> => new Set(keys as readonly PropertyKey[] as readonly string[]);
}

/** The fields each kind of message has (every one required but RequestVote's `transfer`). */
const FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map<MessageType, ReadonlySet<string>>([
  ['RequestVote', fieldsOf<'RequestVote'>()('type', 'from', 'to', 'term', 'preVote', 'transfer')],
  ['RequestVoteReply', fieldsOf<'RequestVoteReply'>()('type', 'from', 'to', 'term', 'preVote', 'granted')],
  ['AppendEntries', fieldsOf<'AppendEntries'>()('type', 'from', 'to', 'term')],
  ['AppendEntriesReply', fieldsOf<'AppendEntriesReply'>()('type', 'from', 'to', 'term', 'success')],
  ['TimeoutNow', fieldsOf<'TimeoutNow'>()('type', 'from', 'to', 'term')],
]);
const ENVELOPE: ReadonlySet<string> = new Set(['cluster', 'boot', 'seq', 'ts', 'msg']);

/** A node or cluster id: 1 to MAX_ID_LENGTH characters. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH;
}

/** A counter carried in a JSON number: an integer from `min` up to 2^53 − 1 (above, precision is lost). */
export function isCounter(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first field of `value` that `allowed` lacks, if any. */
function strayField(value: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(value).find((key) => !allowed.has(key));
}

const ID_RULE = `expected 1 to ${MAX_ID_LENGTH} characters`;
const COUNTER_RULE = 'expected an integer from 0 to 2^53 − 1';

/** The message `value` holds, or what is wrong with it. */
export function checkMessage(value: unknown): ElectionMessage | string {
  if (!isRecord(value)) return 'expected an object';
  const { type, from, to, term } = value;
  const fields = typeof type === 'string' ? FIELDS.get(type) : undefined;
  if (fields === undefined) return `type: unknown message type ${JSON.stringify(type)}`;
  const stray = strayField(value, fields);
  if (stray !== undefined) return `${stray}: not a field of ${type}`;
  if (!isId(from)) return `from: ${ID_RULE}`;
  if (!isId(to)) return `to: ${ID_RULE}`;
  if (!isCounter(term)) return `term: ${COUNTER_RULE}`;
  switch (type as MessageType) {
    case 'RequestVote': {
      const { preVote, transfer } = value;
      if (typeof preVote !== 'boolean') return 'preVote: expected a boolean';
      if (transfer === undefined) return { type: 'RequestVote', from, to, term, preVote };
      if (typeof transfer !== 'boolean') return 'transfer: expected a boolean';
      return { type: 'RequestVote', from, to, term, preVote, transfer };
    }
    case 'RequestVoteReply': {
      const { preVote, granted } = value;
      if (typeof preVote !== 'boolean') return 'preVote: expected a boolean';
      if (typeof granted !== 'boolean') return 'granted: expected a boolean';
      return { type: 'RequestVoteReply', from, to, term, preVote, granted };
    }
    case 'AppendEntriesReply': {
      const { success } = value;
      if (typeof success !== 'boolean') return 'success: expected a boolean';
      return { type: 'AppendEntriesReply', from, to, term, success };
    }
    case 'AppendEntries':
      return { type: 'AppendEntries', from, to, term };
    case 'TimeoutNow':
      return { type: 'TimeoutNow', from, to, term };
  }
}

/** The payload `value` holds (parsed JSON, authenticated), or what is wrong with it. */
export function checkPayload(value: unknown): DatagramPayload | string {
  if (!isRecord(value)) return 'expected an object';
  const stray = strayField(value, ENVELOPE);
  if (stray !== undefined) return `${stray}: not a field of a datagram`;
  const { cluster, boot, seq, ts } = value;
  if (!isId(cluster)) return `cluster: ${ID_RULE}`;
  if (!isCounter(boot)) return `boot: ${COUNTER_RULE}`;
  if (!isCounter(seq, 1)) return 'seq: expected an integer from 1 to 2^53 − 1';
  if (!isCounter(ts)) return `ts: ${COUNTER_RULE}`;
  const msg = checkMessage(value.msg);
  if (typeof msg === 'string') return `msg: ${msg}`;
  return { cluster, boot, seq, ts, msg };
}
