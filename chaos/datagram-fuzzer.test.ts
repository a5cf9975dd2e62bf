/**
 * The hostile-datagram generator against the project's own decoder (and, at the end, a real
 * UdpTransport on loopback): each family makes what it says, every datagram is dropped for the
 * reason the generator announced, none is ever accepted, and a seed replays the same bytes.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import type { ElectionMessage } from '../nodes/election/messages.js';
import {
  DATAGRAM_MAGIC,
  DATAGRAM_VERSION,
  DatagramDecoder,
  DatagramEncoder,
  type DropReason,
  HEADER_BYTES,
  MAX_DATAGRAM_BYTES,
} from '../nodes/transport/datagram-codec.js';
import { UdpTransport } from '../nodes/transport/udp-transport.js';
import {
  blastDatagrams,
  DATAGRAM_FAMILIES,
  type DatagramFamily,
  DatagramFuzzer,
  type DatagramFuzzerOptions,
  type FuzzDatagram,
  MAX_UDP_PAYLOAD,
} from './datagram-fuzzer.js';

const SECRET = 'fuzz-unit-secret-0123456789';
const CLUSTER = 'ensemble';
const T0 = 1_800_000_000_000;
/** The real sender's current incarnation, as a node's boot: its start time. */
const BOOT = T0 - 60_000;

function fuzzer(opts: Partial<DatagramFuzzerOptions> = {}): DatagramFuzzer {
  return new DatagramFuzzer({
    seed: 42,
    secret: SECRET,
    clusterId: CLUSTER,
    self: 'n2',
    peers: ['n1', 'n3'],
    heardFrom: 'n1',
    now: () => T0,
    ...opts,
  });
}

const only = (family: DatagramFamily, seed = 7): DatagramFuzzer => fuzzer({ seed, weights: { [family]: 1 } });

function take(f: DatagramFuzzer, n: number): FuzzDatagram[] {
  return Array.from({ length: n }, () => f.next());
}

/** A decoder as node n2 has it once it heard n1's current incarnation (its leader). */
function primedDecoder(now = T0): DatagramDecoder {
  const decoder = new DatagramDecoder({
    secret: SECRET,
    clusterId: CLUSTER,
    self: 'n2',
    knownPeers: new Set(['n1', 'n3']),
    now: () => now,
  });
  const heartbeat = new DatagramEncoder({ secret: SECRET, clusterId: CLUSTER, boot: BOOT, now: () => now });
  const first = decoder.decode(heartbeat.encode({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 3 }));
  assert.equal(first.ok, true, 'the genuine heartbeat is accepted');
  return decoder;
}

/** The drop reason of each datagram through one decoder, in order; fails on any acceptance. */
function verdicts(datagrams: readonly FuzzDatagram[], decoder = primedDecoder()): DropReason[] {
  return datagrams.map((d, i) => {
    const r = decoder.decode(d.bytes);
    if (r.ok) assert.fail(`datagram ${i} (${d.family}) was accepted: ${JSON.stringify(r.msg)}`);
    return r.reason;
  });
}

function assertAsExpected(datagrams: readonly FuzzDatagram[]): void {
  const got = verdicts(datagrams);
  datagrams.forEach((d, i) => {
    assert.equal(got[i], d.expect, `datagram ${i} (${d.family}, ${d.bytes.length} bytes)`);
  });
}

function reasonsOf(datagrams: readonly FuzzDatagram[]): Set<DropReason> {
  return new Set(datagrams.map((d) => d.expect));
}

/** The JSON payload of a frame, or undefined when there is none to read. */
function payloadOf(frame: Buffer): unknown {
  try {
    return JSON.parse(frame.subarray(HEADER_BYTES).toString('utf8'));
  } catch {
    return undefined;
  }
}

describe('the datagram fuzzer', () => {
  test('is a pure function of its seed', () => {
    const a = take(fuzzer({ seed: 1234 }), 5_000);
    const b = take(fuzzer({ seed: 1234 }), 5_000);
    const c = take(fuzzer({ seed: 1235 }), 5_000);
    assert.deepEqual(
      a.map((d) => [d.family, d.expect, d.bytes.toString('hex')]),
      b.map((d) => [d.family, d.expect, d.bytes.toString('hex')]),
    );
    const same = a.filter((d, i) => d.bytes.equals((c[i] as FuzzDatagram).bytes)).length;
    assert.ok(same < 50, `another seed gives other datagrams (${same} of 5000 equal)`);
  });

  test('a mix of every family: all dropped, each for the reason announced, none accepted', () => {
    const mix = take(fuzzer({ seed: 99 }), 60_000);
    assert.deepEqual(new Set(mix.map((d) => d.family)), new Set(DATAGRAM_FAMILIES));
    assertAsExpected(mix);
    // Every drop reason a stranger can provoke is reached.
    assert.deepEqual(
      reasonsOf(mix),
      new Set<DropReason>([
        'oversized',
        'malformed',
        'bad-version',
        'bad-signature',
        'wrong-cluster',
        'unknown-sender',
        'misaddressed',
        'stale',
        'replayed',
      ]),
    );
  });

  test('none becomes acceptable as time passes: the same bytes, decoded up to two minutes later', () => {
    const mix = take(fuzzer({ seed: 3 }), 20_000);
    for (const later of [1, 29_999, 30_001, 45_000, 120_000]) {
      const decoder = primedDecoder(T0 + later);
      mix.forEach((d, i) => {
        const r = decoder.decode(d.bytes);
        assert.equal(r.ok, false, `datagram ${i} (${d.family}) accepted ${later} ms later`);
      });
    }
  });

  test('random bytes: lengths from 0 past the datagram limit, some shaped like a frame', () => {
    const ds = take(only('random-bytes'), 5_000);
    assertAsExpected(ds);
    const lengths = ds.map((d) => d.bytes.length);
    assert.equal(Math.min(...lengths), 0);
    assert.ok(Math.max(...lengths) >= 2_000);
    assert.ok(ds.some((d) => d.bytes.subarray(0, 4).equals(DATAGRAM_MAGIC) && d.expect === 'bad-signature'));
    assert.deepEqual(reasonsOf(ds), new Set(['malformed', 'oversized', 'bad-version', 'bad-signature']));
  });

  test('wrong secret: well-formed frames from real peers that fail the signature check', () => {
    const ds = take(only('wrong-secret'), 3_000);
    assertAsExpected(ds);
    assert.deepEqual(reasonsOf(ds), new Set(['bad-signature']));
    for (const d of ds) {
      const p = payloadOf(d.bytes) as { msg: ElectionMessage; cluster: string };
      assert.ok(['n1', 'n3'].includes(p.msg.from) && p.msg.to === 'n2' && p.cluster === CLUSTER);
    }
    // The same frames, re-signed with the right secret, would pass: only the secret is wrong.
    const resigned = ds.slice(0, 200).map((d) => {
      const p = payloadOf(d.bytes) as { msg: ElectionMessage };
      return new DatagramEncoder({ secret: SECRET, clusterId: CLUSTER, boot: T0, now: () => T0 }).encode(
        p.msg,
      );
    });
    assert.ok(resigned.every((f) => primedDecoder().decode(f).ok));
  });

  test('truncated, extended and bit-flipped genuine frames fail the checks they break', () => {
    for (const family of ['truncated', 'extended', 'bit-flip'] as const) {
      const ds = take(only(family), 4_000);
      assertAsExpected(ds);
      assert.ok(reasonsOf(ds).has('bad-signature'), `${family}: some keep their header`);
    }
    const truncated = take(only('truncated'), 2_000);
    assert.ok(truncated.some((d) => d.bytes.length === 0));
    assert.ok(truncated.some((d) => d.expect === 'malformed'));
    assert.ok(take(only('extended'), 2_000).some((d) => d.expect === 'oversized'));
    const flipped = take(only('bit-flip'), 4_000);
    assert.deepEqual(reasonsOf(flipped), new Set(['bad-signature', 'bad-version', 'malformed']));
  });

  test('huge terms: 2^53 and beyond, negative, fractional, not numbers; wrong or right secret', () => {
    const ds = take(only('huge-term'), 4_000);
    assertAsExpected(ds);
    assert.deepEqual(reasonsOf(ds), new Set(['bad-signature', 'malformed']));
    let readable = 0;
    for (const d of ds) {
      const p = payloadOf(d.bytes) as { msg: { term: unknown } } | undefined;
      if (p === undefined) continue; // NaN, Infinity, 0x10…: not even JSON
      readable++;
      const term = p.msg.term;
      assert.ok(
        !(typeof term === 'number' && Number.isSafeInteger(term) && term >= 0),
        `term ${JSON.stringify(term)} is out of range`,
      );
    }
    assert.ok(readable > 1_000 && readable < ds.length);
    assert.ok(ds.some((d) => d.bytes.includes('"term":9007199254740992')));
  });

  test('replays: correctly signed, exactly repeated, and refused by the replay window or the clock', () => {
    const ds = take(only('replay'), 4_000);
    assertAsExpected(ds);
    assert.deepEqual(reasonsOf(ds), new Set(['replayed', 'stale']));
    const copies = new Map<string, number>();
    for (const d of ds) copies.set(d.bytes.toString('hex'), (copies.get(d.bytes.toString('hex')) ?? 0) + 1);
    assert.ok([...copies.values()].filter((n) => n > 1).length > 100, 'frames are sent again, byte for byte');
    // They pass the signature: a node that has not heard this sender yet takes each one once…
    const unprimed = () =>
      new DatagramDecoder({
        secret: SECRET,
        clusterId: CLUSTER,
        self: 'n2',
        knownPeers: new Set(['n1', 'n3']),
        now: () => T0,
      });
    const fresh = [...new Set(ds.filter((d) => d.expect === 'replayed').map((d) => d.bytes))].slice(0, 300);
    assert.equal(fresh.length, 300);
    for (const bytes of fresh) {
      const decoder = unprimed();
      assert.equal(decoder.decode(bytes).ok, true);
      // …and refuses the very same bytes the second time.
      assert.deepEqual(decoder.decode(bytes), { ok: false, reason: 'replayed' });
    }
  });

  test('bad versions, oversize and signed-but-refused frames', () => {
    const versions = take(only('bad-version'), 2_000);
    assertAsExpected(versions);
    assert.ok(versions.every((d) => d.bytes[4] !== DATAGRAM_VERSION));
    assert.ok(new Set(versions.map((d) => d.bytes[4])).size > 200, 'every other version byte');

    const big = take(only('oversize'), 2_000);
    assertAsExpected(big);
    assert.ok(big.every((d) => d.bytes.length > MAX_DATAGRAM_BYTES && d.bytes.length <= MAX_UDP_PAYLOAD));
    assert.ok(big.some((d) => d.bytes.length > 9_000));

    const refused = take(only('signed-refused'), 2_000);
    assertAsExpected(refused);
    assert.deepEqual(reasonsOf(refused), new Set(['wrong-cluster', 'unknown-sender', 'misaddressed']));
  });

  test('bad fields: correctly signed, a flag of the wrong kind or on a type without it, all malformed', () => {
    const ds = take(only('bad-field'), 2_000);
    assertAsExpected(ds);
    assert.deepEqual(reasonsOf(ds), new Set(['malformed']));
    const msgs = ds.map((d) => (payloadOf(d.bytes) as { msg: Record<string, unknown> }).msg);
    assert.ok(msgs.some((m) => m.type === 'TimeoutNow' && m.transfer === true));
    assert.ok(msgs.some((m) => m.type === 'RequestVote' && m.transfer === 1));
  });

  test('leadership transfer traffic is among the messages: TimeoutNow and transfer votes', () => {
    const msgs = take(only('wrong-secret'), 3_000).map(
      (d) => (payloadOf(d.bytes) as { msg: ElectionMessage }).msg,
    );
    const timeoutNow = msgs.filter((m) => m.type === 'TimeoutNow');
    const transferVotes = msgs.filter((m) => m.type === 'RequestVote' && m.transfer === true);
    assert.ok(timeoutNow.length > 300, `${timeoutNow.length} TimeoutNow`);
    assert.ok(transferVotes.length > 50, `${transferVotes.length} transfer votes`);
    // Valid messages all: the project's encoder takes each one as it is.
    const enc = new DatagramEncoder({ secret: SECRET, clusterId: CLUSTER, boot: T0, now: () => T0 });
    for (const m of [...timeoutNow, ...transferVotes])
      assert.deepEqual(primedDecoder().decode(enc.encode(m)), { ok: true, msg: m });
  });

  test('needs the secret and a peer the target heard from', () => {
    assert.throws(() => fuzzer({ secret: '' }), /secret/);
    assert.throws(() => fuzzer({ heardFrom: 'n9' }), /heardFrom/);
    assert.throws(() => fuzzer({ weights: {} }), /no family/);
  });
});

describe('blastDatagrams', () => {
  test('sends the count, tallied by family and expected reason', async () => {
    const receiver = createSocket('udp4');
    let received = 0;
    receiver.on('message', () => received++);
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    try {
      const result = await blastDatagrams({
        host: '127.0.0.1',
        port: receiver.address().port,
        fuzzer: fuzzer({ weights: { 'random-bytes': 1, 'wrong-secret': 1, replay: 1 } }),
        count: 3_000,
        batch: 16,
        window: 16,
        arrivals: () => new Promise((resolve) => setImmediate(() => resolve(received))),
      });
      assert.equal(result.sent, 3_000);
      assert.equal(result.sendErrors, 0);
      assert.equal(
        Object.values(result.byFamily).reduce((a, b) => a + b, 0),
        3_000,
      );
      assert.equal(
        Object.values(result.expected).reduce((a, b) => a + b, 0),
        3_000,
      );
      assert.equal(result.byFamily.oversize, 0);
      assert.ok(result.byFamily['random-bytes'] > 800);
      const deadline = Date.now() + 10_000;
      while (received < 3_000 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(received, 3_000, 'a small window loses nothing on loopback');
    } finally {
      receiver.close();
    }
  });

  test('a real UdpTransport drops every one for the announced reason and delivers none', async () => {
    const transport = await UdpTransport.open({
      self: 'n2',
      bindHost: '127.0.0.1',
      port: 0,
      peers: [
        { id: 'n1', host: '127.0.0.1', port: 9 },
        { id: 'n3', host: '127.0.0.1', port: 9 },
      ],
      secret: SECRET,
      clusterId: CLUSTER,
    });
    const delivered: ElectionMessage[] = [];
    transport.onMessage((m) => delivered.push(m));
    const socket = createSocket('udp4');
    try {
      // n1's current incarnation reaches n2 first, as its leader's heartbeats would.
      const n1 = new DatagramEncoder({ secret: SECRET, clusterId: CLUSTER, boot: Date.now(), now: Date.now });
      const heartbeat = n1.encode({ type: 'AppendEntries', from: 'n1', to: 'n2', term: 5 });
      await new Promise((resolve) => socket.send(heartbeat, transport.port, '127.0.0.1', resolve));
      while (transport.received < 1) await new Promise((r) => setImmediate(r));

      const count = 20_000;
      const arrivals = () =>
        new Promise<number>((resolve) =>
          setImmediate(() => resolve(transport.drops.total + transport.received)),
        );
      const result = await blastDatagrams({
        host: '127.0.0.1',
        port: transport.port,
        fuzzer: fuzzer({ seed: 5, now: Date.now }),
        count,
        batch: 8,
        window: 8,
        arrivals,
        socket,
      });
      // The last batch may still be in the socket buffer.
      const deadline = Date.now() + 10_000;
      while ((await arrivals()) < count + 1 && Date.now() < deadline) {}
      assert.equal(result.presumedLost, 0);
      assert.deepEqual(delivered, [{ type: 'AppendEntries', from: 'n1', to: 'n2', term: 5 }]);
      const { total, ...byReason } = transport.drops.snapshot();
      assert.equal(total, count);
      for (const [reason, n] of Object.entries(byReason)) {
        assert.equal(n, result.expected[reason as DropReason] ?? 0, `${reason} drops`);
      }
    } finally {
      socket.close();
      await transport.close();
    }
  });
});
