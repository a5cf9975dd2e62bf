import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ElectionMessage } from '../election/messages.js';
import {
  DatagramDecoder,
  DatagramEncoder,
  type DecodeResult,
  DropCounters,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
  REPLAY_WINDOW,
  sealFrame,
} from './datagram-codec.js';

const SECRET = 'correct horse battery staple';
const CLUSTER = 'ensemble-test';
const T0 = 1_700_000_000_000;

/** mulberry32: a few lines of seeded randomness so a failing fuzz case reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function encoder(opts: { boot?: number; now?: number; secret?: string; cluster?: string } = {}) {
  return new DatagramEncoder({
    secret: opts.secret ?? SECRET,
    clusterId: opts.cluster ?? CLUSTER,
    boot: opts.boot ?? T0 - 5000,
    now: () => opts.now ?? T0,
  });
}

function decoder(opts: { now?: number; self?: string } = {}) {
  return new DatagramDecoder({
    secret: SECRET,
    clusterId: CLUSTER,
    self: opts.self ?? 'b',
    knownPeers: new Set(['a', 'c']),
    now: () => opts.now ?? T0,
  });
}

const vote: ElectionMessage = { type: 'RequestVote', from: 'a', to: 'b', term: 7, preVote: false };

const ALL: ElectionMessage[] = [
  vote,
  { type: 'RequestVote', from: 'a', to: 'b', term: 8, preVote: true },
  { type: 'RequestVote', from: 'a', to: 'b', term: 9, preVote: false, transfer: true },
  { type: 'RequestVoteReply', from: 'a', to: 'b', term: 7, preVote: true, granted: true },
  { type: 'RequestVoteReply', from: 'a', to: 'b', term: 0, preVote: false, granted: false },
  { type: 'AppendEntries', from: 'a', to: 'b', term: Number.MAX_SAFE_INTEGER },
  { type: 'AppendEntriesReply', from: 'a', to: 'b', term: 3, success: true },
  { type: 'AppendEntriesReply', from: 'a', to: 'b', term: 3, success: false },
  { type: 'TimeoutNow', from: 'a', to: 'b', term: 12 },
];

function dropped(result: DecodeResult): string {
  assert.equal(result.ok, false, 'expected a drop');
  return result.ok ? '' : result.reason;
}

/** A correctly signed frame around an arbitrary payload, for testing what follows the MAC check. */
function signed(payload: unknown, raw?: string): Buffer {
  return sealFrame(SECRET, Buffer.from(raw ?? JSON.stringify(payload), 'utf8'));
}

function payload(overrides: Record<string, unknown> = {}, msg: Record<string, unknown> = {}) {
  return { cluster: CLUSTER, boot: T0 - 5000, seq: 1, ts: T0, msg: { ...vote, ...msg }, ...overrides };
}

describe('roundtrip', () => {
  test('every message type decodes to what was encoded', () => {
    const enc = encoder();
    const dec = decoder();
    for (const msg of ALL) {
      const frame = enc.encode(msg);
      assert.ok(frame.length <= MAX_DATAGRAM_BYTES);
      assert.equal(frame.subarray(0, 4).toString('latin1'), 'ENSB');
      assert.equal(frame[4], 1);
      assert.deepEqual(dec.decode(frame), { ok: true, msg });
    }
  });

  test('stray properties are not put on the wire', () => {
    const msg = { ...vote, extra: 'x' } as ElectionMessage;
    assert.deepEqual(decoder().decode(encoder().encode(msg)), { ok: true, msg: vote });
  });

  test('the transfer flag is on the wire only when set, so older nodes still read ordinary votes', () => {
    const msgOf = (frame: Buffer) => JSON.parse(frame.subarray(HEADER_BYTES).toString('utf8')).msg;
    const enc = encoder();
    assert.equal('transfer' in msgOf(enc.encode({ ...vote, transfer: false })), false);
    assert.equal('transfer' in msgOf(enc.encode(vote)), false);
    assert.equal(msgOf(enc.encode({ ...vote, transfer: true })).transfer, true);
    // A vote without the field, as a node of the version before it sends, decodes as ordinary.
    assert.deepEqual(decoder().decode(signed(payload())), { ok: true, msg: vote });
    assert.deepEqual(decoder().decode(signed(payload({}, { transfer: false }))), {
      ok: true,
      msg: { ...vote, transfer: false },
    });
  });

  test('the encoder refuses messages the peer would drop', () => {
    const enc = encoder();
    assert.throws(() => enc.encode({ ...vote, term: -1 }), /invalid ElectionMessage/);
    assert.throws(() => enc.encode({ ...vote, from: 'x'.repeat(65) }), /invalid ElectionMessage/);
    assert.throws(
      () => enc.encode({ ...vote, transfer: 'yes' } as unknown as ElectionMessage),
      /invalid ElectionMessage/,
    );
    // A refused message does not consume a sequence number.
    const p = JSON.parse(enc.encode(vote).subarray(HEADER_BYTES).toString('utf8'));
    assert.equal(p.seq, 1);
  });

  test('sequence numbers start at 1 and increase', () => {
    const enc = encoder();
    const seqs = [1, 2, 3].map(() => JSON.parse(enc.encode(vote).subarray(HEADER_BYTES).toString()).seq);
    assert.deepEqual(seqs, [1, 2, 3]);
  });
});

describe('integrity', () => {
  test('changing any byte is detected', () => {
    const frame = encoder().encode(vote);
    const dec = decoder();
    for (let i = 0; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] = (bad[i] ?? 0) ^ 0xff;
      const expected = i < 4 ? 'malformed' : i === 4 ? 'bad-version' : 'bad-signature';
      assert.equal(dropped(dec.decode(bad)), expected, `byte ${i}`);
    }
    // None of those touched the replay window: the original is still fresh.
    assert.equal(dec.decode(frame).ok, true);
  });

  test('flipping any single bit is detected', () => {
    const frame = encoder().encode(vote);
    const dec = decoder();
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const bad = Buffer.from(frame);
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      assert.equal(dec.decode(bad).ok, false, `bit ${bit}`);
    }
  });

  test('a transfer flag cannot be added to a signed vote, nor a vote turned into TimeoutNow', () => {
    const frame = encoder().encode(vote);
    const text = frame.subarray(HEADER_BYTES).toString('utf8');
    for (const forged of [
      text.replace('"preVote":false', '"preVote":false,"transfer":true'),
      text.replace('"type":"RequestVote"', '"type":"TimeoutNow"').replace(',"preVote":false', ''),
    ]) {
      assert.notEqual(forged, text);
      const bad = Buffer.concat([frame.subarray(0, HEADER_BYTES), Buffer.from(forged, 'utf8')]);
      assert.equal(dropped(decoder().decode(bad)), 'bad-signature');
    }
  });

  test('a different secret is a bad signature', () => {
    const frame = encoder({ secret: 'another secret' }).encode(vote);
    assert.equal(dropped(decoder().decode(frame)), 'bad-signature');
  });

  test('another version is refused even when correctly signed', () => {
    const frame = sealFrame(SECRET, Buffer.from(JSON.stringify(payload())), 2);
    assert.equal(dropped(decoder().decode(frame)), 'bad-version');
  });

  test('truncation at every length is detected', () => {
    const frame = encoder().encode(vote);
    const dec = decoder();
    for (let len = 0; len < frame.length; len++) {
      const reason = dropped(dec.decode(frame.subarray(0, len)));
      assert.equal(reason, len < HEADER_BYTES ? 'malformed' : 'bad-signature', `length ${len}`);
    }
  });

  test('oversized datagrams are dropped before anything else', () => {
    const big = Buffer.alloc(MAX_DATAGRAM_BYTES + 1);
    assert.equal(dropped(decoder().decode(big)), 'oversized');
    const signedBig = signed(payload({}, { from: 'a'.repeat(2000) }));
    assert.equal(dropped(decoder().decode(signedBig)), 'oversized');
  });
});

describe('fuzz', () => {
  test('random bytes never throw and never decode', () => {
    const rnd = prng(20240601);
    const dec = decoder();
    const reasons = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rnd() * (MAX_DATAGRAM_BYTES + 64));
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(rnd() * 256);
      // Half of them get a valid header prefix so they reach the signature check.
      if (i % 2 === 0 && len >= 5) Buffer.from('ENSB\x01', 'latin1').copy(buf);
      reasons.add(dropped(dec.decode(buf)));
    }
    assert.deepEqual([...reasons].sort(), ['bad-signature', 'malformed', 'oversized']);
  });

  test('random signed payloads never throw and never decode', () => {
    const rnd = prng(7);
    const dec = decoder();
    const pieces = [
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      'null',
      'true',
      '1e400',
      '-1',
      '"type"',
      '"term"',
      '\\u0000',
    ];
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const n = Math.floor(rnd() * 20);
      for (let j = 0; j < n; j++) text += pieces[Math.floor(rnd() * pieces.length)];
      assert.equal(dropped(dec.decode(signed(null, text))), 'malformed');
    }
  });

  test('non-buffer input does not throw', () => {
    const dec = decoder();
    for (const junk of [undefined, null, 'ENSB', 42, {}, []]) {
      assert.equal(dropped(dec.decode(junk as unknown as Buffer)), 'malformed');
    }
  });
});

describe('payload validation', () => {
  const cases: [string, Buffer][] = [
    ['term -1', signed(payload({}, { term: -1 }))],
    ['term 1e400', signed(null, JSON.stringify(payload()).replace('"term":7', '"term":1e400'))],
    ['term above 2^53', signed(payload({}, { term: Number.MAX_SAFE_INTEGER + 1 }))],
    ['term 1.5', signed(payload({}, { term: 1.5 }))],
    ['term as string', signed(payload({}, { term: '7' }))],
    ['missing preVote', signed(payload({}, { preVote: undefined }))],
    ['missing msg', signed(payload({ msg: undefined }))],
    ['missing seq', signed(payload({ seq: undefined }))],
    ['seq 0', signed(payload({ seq: 0 }))],
    ['negative boot', signed(payload({ boot: -1 }))],
    ['unknown type', signed(payload({}, { type: 'InstallSnapshot' }))],
    ['extra field', signed(payload({}, { leaderCommit: 3 }))],
    ['extra envelope field', signed(payload({ hops: 1 }))],
    ['from too long', signed(payload({}, { from: 'a'.repeat(65) }))],
    ['empty to', signed(payload({}, { to: '' }))],
    ['RequestVoteReply without granted', signed(payload({}, { type: 'RequestVoteReply' }))],
    ['transfer as string', signed(payload({}, { transfer: 'true' }))],
    ['transfer null', signed(payload({}, { transfer: null }))],
    ['transfer on a reply', signed(payload({}, { type: 'RequestVoteReply', granted: true, transfer: true }))],
    ['TimeoutNow with a vote field', signed(payload({}, { type: 'TimeoutNow' }))],
    [
      'TimeoutNow with a transfer flag',
      signed(payload({}, { type: 'TimeoutNow', preVote: undefined, transfer: true })),
    ],
    [
      'TimeoutNow without term',
      signed(payload({}, { type: 'TimeoutNow', preVote: undefined, term: undefined })),
    ],
    ['__proto__ key', signed(null, JSON.stringify(payload()).replace('"term":7', '"__proto__":{},"term":7'))],
    ['array', signed([payload()])],
    ['null', signed(null)],
    ['not JSON', signed(null, '{"cluster":')],
    ['empty payload', signed(null, '')],
    ['invalid UTF-8', sealFrame(SECRET, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
  ];
  for (const [name, frame] of cases) {
    test(`${name} is malformed`, () => {
      assert.equal(dropped(decoder().decode(frame)), 'malformed');
    });
  }

  test('the hand-built payload is accepted as is (so the cases above fail for their own reason)', () => {
    assert.equal(decoder().decode(signed(payload())).ok, true);
    assert.equal(decoder().decode(signed(payload({}, { type: 'TimeoutNow', preVote: undefined }))).ok, true);
    assert.equal(decoder().decode(signed(payload({}, { transfer: true }))).ok, true);
  });
});

describe('addressing and freshness', () => {
  test('wrong cluster', () => {
    assert.equal(dropped(decoder().decode(encoder({ cluster: 'other' }).encode(vote))), 'wrong-cluster');
  });

  test('unknown sender', () => {
    assert.equal(dropped(decoder().decode(encoder().encode({ ...vote, from: 'mallory' }))), 'unknown-sender');
  });

  test('a datagram claiming to come from ourselves', () => {
    const dec = new DatagramDecoder({
      secret: SECRET,
      clusterId: CLUSTER,
      self: 'b',
      knownPeers: new Set(['a', 'b']),
      now: () => T0,
    });
    assert.equal(dropped(dec.decode(encoder().encode({ ...vote, from: 'b' }))), 'unknown-sender');
  });

  test('misaddressed', () => {
    assert.equal(dropped(decoder().decode(encoder().encode({ ...vote, to: 'c' }))), 'misaddressed');
  });

  test('timestamps beyond the skew window either way are stale', () => {
    const frame = () => encoder().encode(vote);
    assert.equal(decoder({ now: T0 + 30_000 }).decode(frame()).ok, true);
    assert.equal(decoder({ now: T0 - 30_000 }).decode(frame()).ok, true);
    assert.equal(dropped(decoder({ now: T0 + 30_001 }).decode(frame())), 'stale');
    assert.equal(dropped(decoder({ now: T0 - 30_001 }).decode(frame())), 'stale');
  });

  test('the skew window is configurable', () => {
    const dec = new DatagramDecoder({
      secret: SECRET,
      clusterId: CLUSTER,
      self: 'b',
      knownPeers: new Set(['a']),
      now: () => T0 + 1001,
      maxClockSkewMs: 1000,
    });
    assert.equal(dropped(dec.decode(encoder().encode(vote))), 'stale');
  });
});

describe('replay protection', () => {
  test('the same datagram twice is a replay', () => {
    const dec = decoder();
    const frame = encoder().encode(vote);
    assert.equal(dec.decode(frame).ok, true);
    assert.equal(dropped(dec.decode(frame)), 'replayed');
  });

  test('reordered datagrams inside the window are accepted once each', () => {
    const enc = encoder();
    const dec = decoder();
    const frames = Array.from({ length: REPLAY_WINDOW }, (_, i) => enc.encode({ ...vote, term: i }));
    const order = [...frames.keys()].reverse(); // the worst reordering that still fits the window
    for (const i of order) assert.equal(dec.decode(frames[i] as Buffer).ok, true, `seq ${i + 1}`);
    for (const i of order) assert.equal(dropped(dec.decode(frames[i] as Buffer)), 'replayed');
  });

  test('a seq that fell out of the window is refused even if never seen', () => {
    const enc = encoder();
    const dec = decoder();
    const first = enc.encode(vote); // seq 1
    const late = enc.encode(vote); // seq 2, delayed
    for (let i = 0; i < REPLAY_WINDOW - 1; i++) enc.encode(vote); // seq 3..65 lost
    assert.equal(dec.decode(first).ok, true);
    assert.equal(dec.decode(enc.encode(vote)).ok, true); // seq 66: seq 2 is now 64 behind
    assert.equal(dropped(dec.decode(late)), 'replayed');
  });

  test('a seq exactly at the trailing edge of the window is still accepted', () => {
    const enc = encoder();
    const dec = decoder();
    const late = enc.encode(vote); // seq 1
    for (let i = 0; i < REPLAY_WINDOW - 2; i++) enc.encode(vote); // seq 2..63 lost
    assert.equal(dec.decode(enc.encode(vote)).ok, true); // seq 64: seq 1 is 63 behind
    assert.equal(dec.decode(late).ok, true);
  });

  test('a big jump forward clears the window', () => {
    const enc = encoder();
    const dec = decoder();
    const frames = Array.from({ length: 200 }, () => enc.encode(vote));
    assert.equal(dec.decode(frames[0] as Buffer).ok, true);
    assert.equal(dec.decode(frames[199] as Buffer).ok, true);
    assert.equal(dec.decode(frames[150] as Buffer).ok, true);
    assert.equal(dropped(dec.decode(frames[100] as Buffer)), 'replayed');
    assert.equal(dropped(dec.decode(frames[150] as Buffer)), 'replayed');
  });

  test('a restarted sender (newer boot) is accepted from seq 1, and its old boot is then a replay', () => {
    const dec = decoder();
    const old = encoder({ boot: 100 });
    const oldFrames = [old.encode(vote), old.encode(vote), old.encode(vote)];
    assert.equal(dec.decode(oldFrames[0] as Buffer).ok, true);
    assert.equal(dec.decode(oldFrames[2] as Buffer).ok, true);
    const restarted = encoder({ boot: 200 });
    assert.equal(dec.decode(restarted.encode(vote)).ok, true);
    assert.equal(dec.decode(restarted.encode(vote)).ok, true);
    // Never seen before, inside its old window, but from a dead incarnation.
    assert.equal(dropped(dec.decode(oldFrames[1] as Buffer)), 'replayed');
    assert.equal(dropped(dec.decode(old.encode(vote))), 'replayed');
  });

  test('senders have independent windows', () => {
    const enc = encoder();
    const dec = decoder();
    assert.equal(dec.decode(enc.encode(vote)).ok, true);
    assert.equal(dec.decode(enc.encode({ ...vote, from: 'c' })).ok, true); // seq 2 from c: new sender
    const fromC = encoder({ boot: 1 }).encode({ ...vote, from: 'c' });
    assert.equal(dropped(dec.decode(fromC)), 'replayed'); // c is on a later boot already
  });

  test('a datagram dropped for another reason does not advance the window', () => {
    const enc = encoder();
    let now = T0 + 60_000;
    const dec = new DatagramDecoder({
      secret: SECRET,
      clusterId: CLUSTER,
      self: 'b',
      knownPeers: new Set(['a']),
      now: () => now,
    });
    const first = enc.encode(vote); // seq 1
    for (let i = 0; i < 100; i++) enc.encode(vote);
    const later = enc.encode(vote); // seq 102
    assert.equal(dropped(dec.decode(later)), 'stale');
    assert.equal(dropped(dec.decode(enc.encode({ ...vote, to: 'c' }))), 'misaddressed');
    now = T0;
    // Had either drop moved the window, seq 1 would now be far behind it.
    assert.equal(dec.decode(first).ok, true);
    assert.equal(dec.decode(later).ok, true);
  });
});

describe('DropCounters', () => {
  test('counts per reason and in total', () => {
    const c = new DropCounters();
    c.record('replayed');
    c.record('replayed');
    c.record('stale');
    const snap = c.snapshot();
    assert.equal(snap.replayed, 2);
    assert.equal(snap.stale, 1);
    assert.equal(snap.malformed, 0);
    assert.equal(snap.total, 3);
    assert.equal(c.total, 3);
    c.record('oversized');
    assert.equal(snap.total, 3, 'a snapshot is a copy');
  });
});

describe('constructor validation', () => {
  test('empty secret or cluster id is refused', () => {
    assert.throws(() => encoder({ secret: '' }), /secret/);
    assert.throws(() => encoder({ cluster: '' }), /clusterId/);
  });
});
