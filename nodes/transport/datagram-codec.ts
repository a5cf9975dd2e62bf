/**
 * The election's datagram format: versioned, authenticated, replay-protected.
 *
 *   magic "ENSB" (4) | version (1) | HMAC-SHA256 (32) | UTF-8 JSON payload
 *
 * The HMAC covers magic, version and payload, so nothing the receiver acts on is unsigned. The
 * payload carries the cluster id (so two clusters sharing a secret by mistake cannot talk), the
 * sender's incarnation (`boot`) and a per-boot sequence number (for replay protection), and the
 * sender's wall clock (so a captured datagram is useless once the clock-skew window has passed,
 * even to a receiver that restarted and forgot its replay state).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ElectionMessage, NodeId } from '../election/messages.js';
import { checkMessage, checkPayload, isCounter, isId, MAX_ID_LENGTH } from './datagram-payload.js';

/** Well under the smallest path MTU we expect, so a datagram is never IP-fragmented. */
export const MAX_DATAGRAM_BYTES = 1024;
export const DATAGRAM_MAGIC: Buffer = Buffer.from('ENSB', 'latin1');
export const DATAGRAM_VERSION = 1;
const MAC_BYTES = 32;
const MAC_OFFSET = DATAGRAM_MAGIC.length + 1;
export const HEADER_BYTES: number = MAC_OFFSET + MAC_BYTES;
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;
/** Anti-replay window width, as in IPsec (RFC 4303 §3.4.3). */
export const REPLAY_WINDOW = 64;

export const DROP_REASONS = [
  'oversized',
  'malformed',
  'bad-version',
  'bad-signature',
  'wrong-cluster',
  'unknown-sender',
  'misaddressed',
  'stale',
  'replayed',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type DecodeResult = { ok: true; msg: ElectionMessage } | { ok: false; reason: DropReason };

function mac(secret: string, version: number, payload: Uint8Array): Buffer {
  return createHmac('sha256', secret)
    .update(DATAGRAM_MAGIC)
    .update(Uint8Array.of(version))
    .update(payload)
    .digest();
}

/**
 * Frames and signs an arbitrary payload. The encoder is the normal way in; this is exported so
 * tests can produce correctly signed frames whose payload is wrong.
 */
export function sealFrame(secret: string, payload: Uint8Array, version: number = DATAGRAM_VERSION): Buffer {
  return Buffer.concat([DATAGRAM_MAGIC, Uint8Array.of(version), mac(secret, version, payload), payload]);
}

function requireNonEmpty(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${name} must be a non-empty string`);
}

/** Copies only the fields of the wire format, so stray properties on the caller's object never leak
 * onto the wire (and never make the peer's strict checks refuse the datagram). */
function wireFields(msg: ElectionMessage): ElectionMessage {
  const { from, to, term } = msg;
  switch (msg.type) {
    case 'RequestVote':
      return {
        type: msg.type,
        from,
        to,
        term,
        preVote: msg.preVote,
        // Absent when false; anything else goes on to the checks, which refuse what is no boolean.
        ...(msg.transfer === undefined || msg.transfer === false ? {} : { transfer: msg.transfer }),
      };
    case 'RequestVoteReply':
      return { type: msg.type, from, to, term, preVote: msg.preVote, granted: msg.granted };
    case 'AppendEntries':
      return { type: msg.type, from, to, term };
    case 'AppendEntriesReply':
      return { type: msg.type, from, to, term, success: msg.success };
    case 'TimeoutNow':
      return { type: msg.type, from, to, term };
  }
}

export interface EncoderOptions {
  readonly secret: string;
  readonly clusterId: string;
  /** Sender incarnation: must grow across restarts, or peers will take the new process for a replay. */
  readonly boot: number;
  readonly now: () => number;
}

export class DatagramEncoder {
  private readonly secret: string;
  private readonly clusterId: string;
  private readonly boot: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(opts: EncoderOptions) {
    requireNonEmpty('secret', opts.secret);
    if (!isId(opts.clusterId)) throw new Error(`clusterId must be 1..${MAX_ID_LENGTH} characters`);
    if (!isCounter(opts.boot)) throw new Error('boot must be a non-negative safe integer');
    this.secret = opts.secret;
    this.clusterId = opts.clusterId;
    this.boot = opts.boot;
    this.now = opts.now;
  }

  /** Throws if the message is not valid on the wire: better the sender learns it than the peer
   * silently drops it. */
  encode(msg: ElectionMessage): Buffer {
    const checked = checkMessage(wireFields(msg));
    if (typeof checked === 'string') throw new Error(`invalid ElectionMessage: ${checked}`);
    const seq = this.seq + 1;
    if (seq > Number.MAX_SAFE_INTEGER) throw new Error('sequence number exhausted; restart with a new boot');
    const payload = {
      cluster: this.clusterId,
      boot: this.boot,
      seq,
      ts: Math.floor(this.now()),
      msg: checked,
    };
    const frame = sealFrame(this.secret, Buffer.from(JSON.stringify(payload), 'utf8'));
    if (frame.length > MAX_DATAGRAM_BYTES) {
      throw new Error(`datagram of ${frame.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
    }
    // Only consumed once the frame exists, so a failed encode leaves no gap in the sequence.
    this.seq = seq;
    return frame;
  }
}

export interface DecoderOptions {
  readonly secret: string;
  readonly clusterId: string;
  readonly self: NodeId;
  /** Senders we accept; the replay state is kept only for these, so memory stays bounded. */
  readonly knownPeers: ReadonlySet<NodeId>;
  readonly now: () => number;
  readonly maxClockSkewMs?: number;
}

/** Per-sender replay state: the highest seq seen in the current boot, and a bitmap where bit i
 * says whether seq `highest - i` has been seen. */
interface ReplayWindow {
  boot: number;
  highest: number;
  seen: bigint;
}

const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class DatagramDecoder {
  private readonly secret: string;
  private readonly clusterId: string;
  private readonly self: NodeId;
  private readonly knownPeers: ReadonlySet<NodeId>;
  private readonly now: () => number;
  private readonly maxClockSkewMs: number;
  private readonly windows = new Map<NodeId, ReplayWindow>();

  constructor(opts: DecoderOptions) {
    requireNonEmpty('secret', opts.secret);
    requireNonEmpty('clusterId', opts.clusterId);
    requireNonEmpty('self', opts.self);
    const skew = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (!Number.isFinite(skew) || skew < 0) throw new Error('maxClockSkewMs must be a finite number >= 0');
    this.secret = opts.secret;
    this.clusterId = opts.clusterId;
    this.self = opts.self;
    this.knownPeers = opts.knownPeers;
    this.now = opts.now;
    this.maxClockSkewMs = skew;
  }

  /** Never throws: whatever arrives from the network is either a message or a drop reason. */
  decode(buf: Buffer): DecodeResult {
    try {
      return this.decodeUnsafe(buf);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
  }

  private decodeUnsafe(buf: Buffer): DecodeResult {
    if (!(buf instanceof Uint8Array)) return drop('malformed');
    if (buf.length > MAX_DATAGRAM_BYTES) return drop('oversized');
    if (buf.length < HEADER_BYTES) return drop('malformed');
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
    if (!bytes.subarray(0, DATAGRAM_MAGIC.length).equals(DATAGRAM_MAGIC)) return drop('malformed');
    const version = bytes[DATAGRAM_MAGIC.length];
    if (version !== DATAGRAM_VERSION) return drop('bad-version');

    const payload = bytes.subarray(HEADER_BYTES);
    const expected = mac(this.secret, version, payload);
    // Constant time, so the MAC cannot be guessed byte by byte from response timing.
    if (!timingSafeEqual(bytes.subarray(MAC_OFFSET, HEADER_BYTES), expected)) return drop('bad-signature');

    // Only authenticated bytes reach the parsers.
    const parsed = checkPayload(JSON.parse(utf8.decode(payload)));
    if (typeof parsed === 'string') return drop('malformed');
    const { cluster, boot, seq, ts, msg } = parsed;

    if (cluster !== this.clusterId) return drop('wrong-cluster');
    if (!this.knownPeers.has(msg.from) || msg.from === this.self) return drop('unknown-sender');
    if (msg.to !== this.self) return drop('misaddressed');
    const now = this.now();
    if (!(Math.abs(ts - now) <= this.maxClockSkewMs)) return drop('stale');
    if (!this.accept(msg.from, boot, seq)) return drop('replayed');
    return { ok: true, msg };
  }

  /** Records (boot, seq) for `sender` if it is new; false if it is a replay. */
  private accept(sender: NodeId, boot: number, seq: number): boolean {
    const w = this.windows.get(sender);
    if (w === undefined || boot > w.boot) {
      // A new incarnation numbers from 1 again, so the old window says nothing about it.
      this.windows.set(sender, { boot, highest: seq, seen: 1n });
      return true;
    }
    // An older incarnation can only be a recording: the sender has since restarted.
    if (boot < w.boot) return false;
    if (seq > w.highest) {
      const shift = seq - w.highest;
      w.seen = shift >= REPLAY_WINDOW ? 1n : ((w.seen << BigInt(shift)) | 1n) & WINDOW_MASK;
      w.highest = seq;
      return true;
    }
    const age = w.highest - seq;
    // Too old to tell whether we saw it: refuse rather than risk accepting a duplicate.
    if (age >= REPLAY_WINDOW) return false;
    const bit = 1n << BigInt(age);
    if ((w.seen & bit) !== 0n) return false;
    w.seen |= bit;
    return true;
  }
}

function drop(reason: DropReason): DecodeResult {
  return { ok: false, reason };
}

export type DropSnapshot = Record<DropReason, number> & { total: number };

export class DropCounters {
  private readonly counts = new Map<DropReason, number>(DROP_REASONS.map((r) => [r, 0]));
  private totalCount = 0;

  record(reason: DropReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    this.totalCount++;
  }

  get(reason: DropReason): number {
    return this.counts.get(reason) ?? 0;
  }

  get total(): number {
    return this.totalCount;
  }

  snapshot(): DropSnapshot {
    const out = { total: this.totalCount } as DropSnapshot;
    for (const r of DROP_REASONS) out[r] = this.get(r);
    return out;
  }
}
