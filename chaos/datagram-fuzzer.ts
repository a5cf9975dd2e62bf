/**
 * Hostile election datagrams, from a seed: what an attacker (or a broken peer) can put on a
 * node's UDP port. Every datagram is generated together with the one drop reason the node's
 * decoder must give it (nodes/transport/datagram-codec.ts), so a run can be checked against the
 * node's own drop counters, and the unit test can check the generator against the real decoder.
 *
 * Nothing here may ever be accepted by a node. Frames signed with the right secret (needed to
 * reach the checks behind the signature) are either invalid after the signature (schema, cluster,
 * sender, address, clock) or claim an incarnation (`boot`) older than the one the target has
 * already heard from that sender, which the replay window refuses; even the unmutated bases of
 * the mutating families are such old-incarnation frames.
 *
 * The sender blasts them at a port in batches, awaiting each batch's send callbacks (so nothing
 * buffers without bound), optionally throttled by how many the node has counted so far.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type ElectionMessage, MESSAGE_TYPES, type NodeId } from '../nodes/election/messages.js';
import { Prng } from '../nodes/election/simulation/prng.js';
import {
  DATAGRAM_MAGIC,
  DATAGRAM_VERSION,
  DatagramEncoder,
  type DropReason,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  sealFrame,
} from '../nodes/transport/datagram-codec.js';

export const DATAGRAM_FAMILIES = [
  /** Random bytes of random length (0..2100), some starting with the magic (and version). */
  'random-bytes',
  /** A genuinely signed frame cut short. */
  'truncated',
  /** A genuinely signed frame with bytes appended. */
  'extended',
  /** Built with the project's encoder, signed with a wrong secret. */
  'wrong-secret',
  /** A genuinely signed frame with 1..8 bytes flipped (magic, version, MAC or payload). */
  'bit-flip',
  /** Terms of 2^53 and beyond, negative, fractional, NaN/Infinity text, strings: wrong secret, or
   * the right one (then the schema refuses them). */
  'huge-term',
  /** Exact, repeated copies of correctly signed frames from an older incarnation of a real peer,
   * or recorded long ago (outside the clock-skew window). */
  'replay',
  /** Correctly signed, but with a version byte other than the current one. */
  'bad-version',
  /** Longer than the largest datagram a node accepts (up to UDP's 65507). */
  'oversize',
  /** Correctly signed and current, but for another cluster, from a stranger or to another node. */
  'signed-refused',
  /** Correctly signed, with a flag of the wrong kind (`"transfer":1`) or a field its type lacks (a
   * transfer flag on TimeoutNow or on a reply): the schema refuses them. */
  'bad-field',
] as const;
export type DatagramFamily = (typeof DATAGRAM_FAMILIES)[number];

export interface FuzzDatagram {
  readonly family: DatagramFamily;
  readonly bytes: Buffer;
  /** The reason the target's decoder must drop it for. */
  readonly expect: DropReason;
}

export interface DatagramFuzzerOptions {
  readonly seed: number;
  /** The cluster's real secret (CLUSTER_SECRET). */
  readonly secret: string;
  readonly clusterId: string;
  /** The node the datagrams are for. */
  readonly self: NodeId;
  /** Every other node of the cluster. */
  readonly peers: readonly NodeId[];
  /**
   * A peer whose current incarnation the target has already heard from (its leader, or for the
   * leader any follower): replays claim to come from it, from an older incarnation. A frame from
   * a sender the target never heard from would start a new window, i.e. be accepted.
   */
  readonly heardFrom: NodeId;
  /** The wall clock the frames are stamped with; must be the target's within the skew window. */
  readonly now: () => number;
  /** Relative weights; families left out or weighted 0 are not generated. Default: all equal. */
  readonly weights?: Partial<Record<DatagramFamily, number>>;
}

/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65_507;
/** Older than any real incarnation: a node's boot is the wall clock (ms) at start. */
const MAX_OLD_BOOT = 1_000_000;
const SKEW_MS = 30_000;
/** How far behind ours the target's clock may be for a stale frame to still look stale. */
const STALE_MARGIN_MS = 10_000;
const WRONG_SECRETS = ['', 'not-the-cluster-secret', 'change-me'];
/** Term spellings the schema refuses (> 2^53 - 1, negative, fractional, not finite, not numbers). */
const INVALID_TERMS = [
  '9007199254740992',
  '9007199254740993',
  '18446744073709551616',
  '1e308',
  '1e400',
  '-1',
  '-9007199254740991',
  '0.5',
  '1.0000001',
  '"9007199254740992"',
  '"1"',
  'null',
  'true',
  '[1]',
  '{"n":1}',
];
/** Not JSON at all: the payload cannot be parsed. */
const UNPARSABLE_TERMS = ['NaN', 'Infinity', '-Infinity', '0x10', '1e', '--1', '+1', '9'.repeat(400)];
/** Fields a message type does not have, or values of the wrong kind for the fields it has. */
const BAD_FIELDS: ReadonlyArray<readonly [(typeof MESSAGE_TYPES)[number], Record<string, unknown>]> = [
  ['RequestVote', { preVote: false, transfer: 1 }],
  ['RequestVote', { preVote: false, transfer: 'true' }],
  ['RequestVote', { preVote: false, transfer: null }],
  ['RequestVote', { preVote: 0 }],
  ['RequestVoteReply', { preVote: false, granted: true, transfer: true }],
  ['RequestVoteReply', { preVote: false, granted: 'yes' }],
  ['AppendEntries', { transfer: true }],
  ['AppendEntriesReply', { success: null }],
  ['TimeoutNow', { transfer: true }],
  ['TimeoutNow', { preVote: false }],
  ['TimeoutNow', { success: true }],
];

/** Seeded random bytes that datagrams are cut from: cheaper than drawing every byte. */
const POOL_BYTES = 128 * 1024;
/** Genuine frames the mutating families start from; one is re-signed every few uses. */
const BASES = 256;

export class DatagramFuzzer {
  private readonly rng: Prng;
  private readonly families: DatagramFamily[] = [];
  private readonly cumulative: number[] = [];
  private readonly totalWeight: number;
  private readonly pool: Buffer;
  private readonly wrongSecretEncoders: DatagramEncoder[];
  /** Incarnations of `heardFrom` older than the one the target knows. */
  private readonly oldBoots: number[];
  /** Correctly signed old-incarnation frames from `heardFrom` to the target. */
  private readonly bases: Buffer[] = [];
  /** Frames sent before, to be sent again exactly; re-recorded before their stamp gets stale. */
  private readonly recorded: Array<{ bytes: Buffer; expect: DropReason; at: number }> = [];
  /** Senders the target does not know (itself included). */
  private readonly strangers: NodeId[];
  /** Addressees other than the target. */
  private readonly elsewhere: NodeId[];
  private seq = 0;

  constructor(private readonly options: DatagramFuzzerOptions) {
    if (options.secret === '') throw new Error('the cluster secret is needed to sign frames');
    if (!options.peers.includes(options.heardFrom)) throw new Error('heardFrom must be one of the peers');
    if (options.peers.includes(options.self)) throw new Error('peers must not include self');
    this.rng = new Prng(options.seed);
    let sum = 0;
    for (const family of DATAGRAM_FAMILIES) {
      const w = options.weights === undefined ? 1 : (options.weights[family] ?? 0);
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`weight of ${family} must be >= 0`);
      if (w === 0) continue;
      sum += w;
      this.families.push(family);
      this.cumulative.push(sum);
    }
    if (sum === 0) throw new Error('no family has a weight above 0');
    this.totalWeight = sum;
    this.pool = this.fill(Buffer.alloc(POOL_BYTES));
    // The project's encoder, with secrets that are not the cluster's (it refuses an empty one,
    // which createHmac takes: that one is sealed by hand).
    this.wrongSecretEncoders = WRONG_SECRETS.filter((s) => s !== '').map(
      (secret) =>
        new DatagramEncoder({
          secret,
          clusterId: options.clusterId,
          boot: this.rng.int(1, 2 ** 40),
          now: () => options.now(),
        }),
    );
    this.oldBoots = Array.from({ length: 4 }, () => this.rng.int(1, MAX_OLD_BOOT));
    const unknown = ['intruder', `${options.heardFrom}x`, 'n0', 'x'.repeat(64)].filter(
      (id) => id !== options.self && !options.peers.includes(id),
    );
    this.strangers = [options.self, ...unknown];
    this.elsewhere = [...options.peers, ...unknown];
  }

  /** The next datagram; a pure function of the seed, the options and how many came before. */
  next(): FuzzDatagram {
    const family = this.pickFamily();
    switch (family) {
      case 'random-bytes':
        return this.randomBytes();
      case 'truncated':
        return this.truncated();
      case 'extended':
        return this.extended();
      case 'wrong-secret':
        return this.wrongSecret();
      case 'bit-flip':
        return this.bitFlip();
      case 'huge-term':
        return this.hugeTerm();
      case 'replay':
        return this.replay();
      case 'bad-version':
        return this.badVersion();
      case 'oversize':
        return this.oversize();
      case 'signed-refused':
        return this.signedRefused();
      case 'bad-field':
        return this.badField();
    }
  }

  private pickFamily(): DatagramFamily {
    const x = this.rng.next() * this.totalWeight;
    for (let i = 0; i < this.families.length; i++) {
      if (x < (this.cumulative[i] as number)) return this.families[i] as DatagramFamily;
    }
    return this.families.at(-1) as DatagramFamily;
  }

  private fill(buf: Buffer): Buffer {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) buf.writeUInt32LE(Math.floor(this.rng.next() * 2 ** 32), i);
    for (; i < buf.length; i++) buf[i] = this.rng.int(0, 255);
    return buf;
  }

  /** `n` random bytes: a slice of the pool at a random offset, its first 8 bytes drawn afresh. */
  private bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const from = this.rng.int(0, POOL_BYTES - 1);
      at += this.pool.copy(out, at, from, Math.min(POOL_BYTES, from + n - at));
    }
    for (let i = 0; i < Math.min(n, 8); i++) out[i] = this.rng.int(0, 255);
    return out;
  }

  private term(): number {
    const r = this.rng.next();
    if (r < 0.4) return this.rng.int(0, 100);
    if (r < 0.7) return this.rng.int(0, 2 ** 31);
    return Number.MAX_SAFE_INTEGER - this.rng.int(0, 1000);
  }

  private message(from: NodeId, to: NodeId): ElectionMessage {
    const type = this.rng.pick(MESSAGE_TYPES);
    const term = this.term();
    const flag = this.rng.chance(0.5);
    switch (type) {
      case 'RequestVote':
        // Transfer votes never pre-vote; the flag is left off when false, as the encoder does.
        return {
          type,
          from,
          to,
          term,
          preVote: flag,
          ...(!flag && this.rng.chance(0.3) ? { transfer: true } : {}),
        };
      case 'RequestVoteReply':
        return { type, from, to, term, preVote: flag, granted: this.rng.chance(0.5) };
      case 'AppendEntries':
        return { type, from, to, term };
      case 'AppendEntriesReply':
        return { type, from, to, term, success: flag };
      case 'TimeoutNow':
        return { type, from, to, term };
    }
  }

  /**
   * A frame as the project's encoder lays it out (payload fields in its order), sealed with the
   * project's sealFrame. Cheaper than the encoder, which validates the message first; the
   * messages made here are valid by construction (the unit test re-encodes some to check).
   */
  private frame(
    secret: string,
    /** An ElectionMessage, or (for bad-field) an object posing as one. */
    msg: ElectionMessage | Readonly<Record<string, unknown>>,
    opts: { boot: number; ts?: number; cluster?: string; version?: number },
  ): Buffer {
    const payload = {
      cluster: opts.cluster ?? this.options.clusterId,
      boot: opts.boot,
      seq: ++this.seq,
      ts: opts.ts ?? Math.floor(this.options.now()),
      msg,
    };
    return sealFrame(secret, Buffer.from(JSON.stringify(payload), 'utf8'), opts.version);
  }

  /** A correctly signed frame the target refuses as a replay: `heardFrom`, older incarnation. */
  private oldFrame(): Buffer {
    const msg = this.message(this.options.heardFrom, this.options.self);
    return this.frame(this.options.secret, msg, { boot: this.rng.pick(this.oldBoots) });
  }

  /** A genuine frame to mutate: from the pool, one in eight signed afresh. */
  private base(): Buffer {
    if (this.bases.length < BASES) {
      const frame = this.oldFrame();
      this.bases.push(frame);
      return frame;
    }
    if (this.rng.chance(0.125)) {
      const frame = this.oldFrame();
      this.bases[this.rng.int(0, BASES - 1)] = frame;
      return frame;
    }
    return this.rng.pick(this.bases);
  }

  private randomBytes(): FuzzDatagram {
    const r = this.rng.next();
    const length = r < 0.5 ? this.rng.int(0, 64) : this.rng.int(0, 2100);
    const bytes = this.bytes(length);
    // Some start like a frame, so the version and signature checks are reached too.
    const prefix = this.rng.next();
    if (prefix < 0.3 && length >= DATAGRAM_MAGIC.length) {
      DATAGRAM_MAGIC.copy(bytes);
      if (prefix < 0.15 && length > DATAGRAM_MAGIC.length) bytes[DATAGRAM_MAGIC.length] = DATAGRAM_VERSION;
    }
    return { family: 'random-bytes', bytes, expect: headerVerdict(bytes) ?? 'bad-signature' };
  }

  private truncated(): FuzzDatagram {
    const frame = this.base();
    const bytes = Buffer.from(frame.subarray(0, this.rng.int(0, frame.length - 1)));
    return { family: 'truncated', bytes, expect: headerVerdict(bytes) ?? 'bad-signature' };
  }

  private extended(): FuzzDatagram {
    const frame = this.base();
    const extra = this.rng.chance(0.8) ? this.rng.int(1, 64) : this.rng.int(65, 1200);
    const bytes = Buffer.concat([frame, this.bytes(extra)]);
    return { family: 'extended', bytes, expect: headerVerdict(bytes) ?? 'bad-signature' };
  }

  private wrongSecret(): FuzzDatagram {
    const from = this.rng.pick(this.options.peers);
    const msg = this.message(from, this.options.self);
    const i = this.rng.int(0, this.wrongSecretEncoders.length);
    const bytes =
      i === this.wrongSecretEncoders.length
        ? this.frame('', msg, { boot: Math.floor(this.options.now()) })
        : (this.wrongSecretEncoders[i] as DatagramEncoder).encode(msg);
    return { family: 'wrong-secret', bytes, expect: 'bad-signature' };
  }

  private bitFlip(): FuzzDatagram {
    const base = this.base();
    const bytes = Buffer.from(base);
    const flips = this.rng.int(1, 8);
    // Mostly the signed part; now and then the magic or the version byte.
    for (let k = 0; k < flips; k++) {
      const r = this.rng.next();
      const at =
        r < 0.05
          ? this.rng.int(0, DATAGRAM_MAGIC.length - 1)
          : r < 0.1
            ? DATAGRAM_MAGIC.length
            : this.rng.int(DATAGRAM_MAGIC.length + 1, bytes.length - 1);
      bytes[at] = (bytes[at] as number) ^ this.rng.int(1, 255);
    }
    // Flips of one byte can cancel out; such a copy is no mutation, so flip once more.
    if (bytes.equals(base)) bytes[bytes.length - 1] = (bytes.at(-1) as number) ^ 1;
    return { family: 'bit-flip', bytes, expect: headerVerdict(bytes) ?? 'bad-signature' };
  }

  private hugeTerm(): FuzzDatagram {
    const unparsable = this.rng.chance(0.25);
    const term = this.rng.pick(unparsable ? UNPARSABLE_TERMS : INVALID_TERMS);
    const type = this.rng.pick(MESSAGE_TYPES);
    const extra =
      type === 'RequestVote'
        ? `,"preVote":${this.rng.chance(0.5)}${this.rng.chance(0.3) ? ',"transfer":true' : ''}`
        : type === 'RequestVoteReply'
          ? `,"preVote":false,"granted":true`
          : type === 'AppendEntriesReply'
            ? `,"success":true`
            : '';
    const from = this.rng.pick(this.options.peers);
    const boot = this.rng.chance(0.5) ? Math.floor(this.options.now()) : this.rng.pick(this.oldBoots);
    const msg = `{"type":"${type}","from":${JSON.stringify(from)},"to":${JSON.stringify(this.options.self)},"term":${term}${extra}}`;
    const text = `{"cluster":${JSON.stringify(this.options.clusterId)},"boot":${boot},"seq":${++this.seq},"ts":${Math.floor(this.options.now())},"msg":${msg}}`;
    const rightSecret = this.rng.chance(0.5);
    const secret = rightSecret ? this.options.secret : this.rng.pick(WRONG_SECRETS);
    const bytes = sealFrame(secret, Buffer.from(text, 'utf8'));
    if (bytes.length > MAX_DATAGRAM_BYTES) return { family: 'huge-term', bytes, expect: 'oversized' };
    return { family: 'huge-term', bytes, expect: rightSecret ? 'malformed' : 'bad-signature' };
  }

  private replay(): FuzzDatagram {
    // Half are exact copies of a frame sent before; the rest are recorded now, to be copied later.
    const now = Math.floor(this.options.now());
    if (this.recorded.length > 0 && this.rng.chance(0.5)) {
      const copy = this.rng.pick(this.recorded);
      if (copy.expect === 'stale' || now - copy.at < SKEW_MS / 2) {
        return { family: 'replay', bytes: copy.bytes, expect: copy.expect };
      }
    }
    const stale = this.rng.chance(0.2);
    let bytes: Buffer;
    if (stale) {
      // Recorded well before the skew window, by an older incarnation. Only ever in the past: a
      // frame stamped in the future would come into the window as time passes, and (signed
      // right, from a newer incarnation) be accepted and reset the sender's replay window.
      const ts = now - SKEW_MS - STALE_MARGIN_MS - this.rng.int(0, 10 * SKEW_MS);
      const msg = this.message(this.options.heardFrom, this.options.self);
      bytes = this.frame(this.options.secret, msg, { boot: this.rng.pick(this.oldBoots), ts });
    } else {
      bytes = this.oldFrame();
    }
    const expect: DropReason = stale ? 'stale' : 'replayed';
    const record = { bytes, expect, at: now };
    if (this.recorded.length < 64) this.recorded.push(record);
    else this.recorded[this.rng.int(0, this.recorded.length - 1)] = record;
    return { family: 'replay', bytes, expect };
  }

  private badVersion(): FuzzDatagram {
    let version = this.rng.int(0, 254);
    if (version >= DATAGRAM_VERSION) version++;
    const msg = this.message(this.options.heardFrom, this.options.self);
    const bytes = this.frame(this.options.secret, msg, { boot: Math.floor(this.options.now()), version });
    return { family: 'bad-version', bytes, expect: 'bad-version' };
  }

  private oversize(): FuzzDatagram {
    const r = this.rng.next();
    const length =
      r < 0.9
        ? this.rng.int(MAX_DATAGRAM_BYTES + 1, MAX_DATAGRAM_BYTES + 512)
        : r < 0.99
          ? this.rng.int(MAX_DATAGRAM_BYTES + 513, 9000)
          : this.rng.int(9001, MAX_UDP_PAYLOAD);
    const frame = this.base();
    const bytes = Buffer.concat([frame, this.bytes(length - frame.length)], length);
    return { family: 'oversize', bytes, expect: 'oversized' };
  }

  private signedRefused(): FuzzDatagram {
    const { self, heardFrom, secret } = this.options;
    const boot = Math.floor(this.options.now());
    const kind = this.rng.int(0, 3);
    if (kind === 0) {
      const cluster = `${this.options.clusterId}-other`;
      const bytes = this.frame(secret, this.message(heardFrom, self), { boot, cluster });
      return { family: 'signed-refused', bytes, expect: 'wrong-cluster' };
    }
    if (kind === 1) {
      const bytes = this.frame(secret, this.message(this.rng.pick(this.strangers), self), { boot });
      return { family: 'signed-refused', bytes, expect: 'unknown-sender' };
    }
    const bytes = this.frame(secret, this.message(heardFrom, this.rng.pick(this.elsewhere)), { boot });
    return { family: 'signed-refused', bytes, expect: 'misaddressed' };
  }

  private badField(): FuzzDatagram {
    const { self, heardFrom, secret } = this.options;
    const [type, fields] = this.rng.pick(BAD_FIELDS);
    const msg = { type, from: heardFrom, to: self, term: this.rng.int(0, 100), ...fields };
    const bytes = this.frame(secret, msg, { boot: Math.floor(this.options.now()) });
    return { family: 'bad-field', bytes, expect: 'malformed' };
  }
}

/**
 * The verdict of the checks before the signature, or null when a frame passes them: what the
 * decoder says about a frame whose signature cannot be right.
 */
function headerVerdict(bytes: Buffer): DropReason | null {
  if (bytes.length > MAX_DATAGRAM_BYTES) return 'oversized';
  if (bytes.length < HEADER_BYTES) return 'malformed';
  if (!bytes.subarray(0, DATAGRAM_MAGIC.length).equals(DATAGRAM_MAGIC)) return 'malformed';
  if (bytes[DATAGRAM_MAGIC.length] !== DATAGRAM_VERSION) return 'bad-version';
  return null;
}

export type FamilyCounts = Record<DatagramFamily, number>;
export type ReasonCounts = Partial<Record<DropReason, number>>;

export function emptyFamilyCounts(): FamilyCounts {
  return Object.fromEntries(DATAGRAM_FAMILIES.map((f) => [f, 0])) as FamilyCounts;
}

export interface BlastOptions {
  readonly host: string;
  readonly port: number;
  readonly fuzzer: DatagramFuzzer;
  readonly count: number;
  /** Datagrams handed to the kernel before their callbacks are awaited (default 256). */
  readonly batch?: number;
  /**
   * How many datagrams the target has taken in so far (e.g. its dropped + received counters).
   * When given, at most `window` datagrams are sent ahead of what the target has counted, so a
   * slow target is not simply flooded past its socket buffer.
   */
  readonly arrivals?: () => Promise<number>;
  /** Default 2048. */
  readonly window?: number;
  /** An open udp4 socket to send from (default: one is opened and closed). */
  readonly socket?: Socket;
}

export interface BlastResult {
  readonly sent: number;
  readonly bytes: number;
  readonly sendErrors: number;
  readonly byFamily: FamilyCounts;
  /** Per drop reason: how many of the sent datagrams the target must drop for it. */
  readonly expected: ReasonCounts;
  /** Times the sender waited for the target to catch up. */
  readonly waits: number;
  /** With `arrivals`: sent but never taken in by the target as far as the sender could tell
   * (lost in a full socket buffer, or arrived after the sender stopped looking). */
  readonly presumedLost: number;
  readonly ms: number;
}

/** Sends `count` datagrams from the fuzzer to host:port, as fast as the options allow. */
export async function blastDatagrams(options: BlastOptions): Promise<BlastResult> {
  const started = performance.now();
  const batch = options.batch ?? 256;
  const window = options.window ?? 2048;
  const socket = options.socket ?? createSocket('udp4');
  let sendErrors = 0;
  // Only the last send of a batch has a callback (a socket's sends complete in order); a failed
  // send without one is reported as an 'error' event, which also must not crash the sender.
  const onError = (): void => {
    sendErrors++;
  };
  socket.on('error', onError);
  const byFamily = emptyFamilyCounts();
  const expected: ReasonCounts = {};
  let sent = 0;
  let bytes = 0;
  let waits = 0;
  /** Sent but, as far as the sender can tell, never taken in by the target (socket buffer full). */
  let lost = 0;
  const base = options.arrivals ? await options.arrivals() : 0;
  /** What the target had taken in at the last look, and the look under way (one at a time, in
   * the background while sending goes on; awaited only when the target lags too far). */
  let arrived = 0;
  let looking: Promise<void> | null = null;
  const look = (): Promise<void> => {
    if (looking === null && options.arrivals) {
      const current: Promise<void> = options.arrivals().then(
        (n) => {
          arrived = n - base;
          looking = null;
        },
        (error: unknown) => {
          looking = null;
          throw error;
        },
      );
      // Awaited later, or by the next call; an error must not go unhandled meanwhile.
      current.catch(() => {});
      looking = current;
    }
    return looking ?? Promise.resolve();
  };
  try {
    while (sent < options.count) {
      const n = Math.min(batch, options.count - sent);
      await new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++) {
          const d = options.fuzzer.next();
          byFamily[d.family]++;
          expected[d.expect] = (expected[d.expect] ?? 0) + 1;
          bytes += d.bytes.length;
          const last = i === n - 1;
          try {
            if (last) {
              socket.send(d.bytes, options.port, options.host, (err) => {
                if (err) sendErrors++;
                resolve();
              });
            } else {
              socket.send(d.bytes, options.port, options.host);
            }
          } catch {
            sendErrors++;
            if (last) resolve();
          }
        }
      });
      sent += n;
      if (options.arrivals && sent < options.count) {
        void look();
        // Wait while the target lags by more than a window; a lag that stops shrinking is loss.
        while (sent - arrived - lost > window) {
          waits++;
          const before = arrived;
          await look();
          await look();
          if (arrived === before) lost = sent - arrived;
        }
      }
    }
    await look();
  } finally {
    socket.off('error', onError);
    if (!options.socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return {
    sent,
    bytes,
    sendErrors,
    byFamily,
    expected,
    waits,
    presumedLost: lost,
    ms: performance.now() - started,
  };
}
