import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { freePortRange } from '../../test-support/free-port-range.js';
import type { ElectionMessage } from '../election/messages.js';
import { DatagramEncoder } from './datagram-codec.js';
import { type Peer, parsePeers, type TransportLogger, UdpTransport } from './udp-transport.js';

const SECRET = 'udp test secret';
const CLUSTER = 'udp-test';

describe('parsePeers', () => {
  test('parses ids, hosts and ports', () => {
    assert.deepEqual(parsePeers('a@127.0.0.1:7001, b@localhost:7002,c@[::1]:7003'), [
      { id: 'a', host: '127.0.0.1', port: 7001 },
      { id: 'b', host: 'localhost', port: 7002 },
      { id: 'c', host: '::1', port: 7003 },
    ]);
    assert.deepEqual(parsePeers(''), []);
  });

  const bad: [string, RegExp][] = [
    ['@127.0.0.1:7001', /empty id/],
    ['a127.0.0.1:7001', /expected id@host:port/],
    ['a@127.0.0.1', /missing :port/],
    ['a@127.0.0.1:', /bad port/],
    ['a@127.0.0.1:0', /bad port/],
    ['a@127.0.0.1:65536', /bad port/],
    ['a@127.0.0.1:70x', /bad port/],
    ['a@127.0.0.1:-1', /bad port/],
    ['a@:7001', /bad host/],
    ['a@::1:7001', /brackets/],
    ['a@h:1,a@h:2', /duplicate id "a"/],
    ['a@h:1,,b@h:2', /empty entry/],
    ['a@h:1,', /empty entry/],
    [`${'x'.repeat(65)}@h:1`, /longer than 64/],
  ];
  for (const [spec, message] of bad) {
    test(`rejects ${JSON.stringify(spec)}`, () => {
      assert.throws(() => parsePeers(spec), message);
    });
  }
});

/** Waits for the next message a transport delivers; resolves with it. */
function nextMessage(t: UdpTransport): Promise<ElectionMessage> {
  return new Promise((resolve) => {
    const off = t.onMessage((msg) => {
      off();
      resolve(msg);
    });
  });
}

/** Bounded wait for a condition driven by socket events, without fixed sleeps. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function pair(logger?: TransportLogger): Promise<[UdpTransport, UdpTransport]> {
  const common = { bindHost: '127.0.0.1', port: 0, secret: SECRET, clusterId: CLUSTER };
  // Each needs the other's bound port, and peers are fixed at open: so learn a free port for a,
  // open b pointing at it, then reopen a on that port pointing at b.
  const a0 = await UdpTransport.open({ ...common, self: 'a', peers: [] });
  const b = await UdpTransport.open({
    ...common,
    self: 'b',
    peers: [{ id: 'a', host: '127.0.0.1', port: a0.port }],
    ...(logger ? { logger } : {}),
  });
  const port = a0.port;
  await a0.close();
  const a = await UdpTransport.open({
    ...common,
    self: 'a',
    port,
    peers: [
      { id: 'a', host: '127.0.0.1', port },
      { id: 'b', host: '127.0.0.1', port: b.port },
    ],
  });
  return [a, b];
}

describe('UdpTransport', () => {
  const open: UdpTransport[] = [];
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
  });

  test('two transports exchange every message type', async () => {
    const [a, b] = await pair();
    open.push(a, b);
    assert.ok(a.port > 0 && b.port > 0 && a.port !== b.port);

    const toB: ElectionMessage[] = [
      { type: 'RequestVote', from: 'a', to: 'b', term: 1, preVote: true },
      { type: 'AppendEntries', from: 'a', to: 'b', term: 2 },
      { type: 'TimeoutNow', from: 'a', to: 'b', term: 2 },
      { type: 'RequestVote', from: 'a', to: 'b', term: 3, preVote: false, transfer: true },
    ];
    const toA: ElectionMessage[] = [
      { type: 'RequestVoteReply', from: 'b', to: 'a', term: 1, preVote: true, granted: true },
      { type: 'AppendEntriesReply', from: 'b', to: 'a', term: 2, success: true },
    ];
    const gotB: ElectionMessage[] = [];
    const gotA: ElectionMessage[] = [];
    b.onMessage((m) => gotB.push(m));
    a.onMessage((m) => gotA.push(m));
    for (const m of toB) a.send(m);
    for (const m of toA) b.send(m);
    await until(() => gotA.length === 2 && gotB.length === 4, 'six messages');
    assert.deepEqual(gotB, toB);
    assert.deepEqual(gotA, toA);
    await until(() => a.sent === 4 && b.sent === 2, 'send callbacks');
    assert.equal(a.received, 2);
    assert.equal(b.received, 4);
    assert.equal(a.drops.total + b.drops.total, 0);
  });

  test('a probe reaches a live peer as any message, and the peer is not reported', async () => {
    const [a, b] = await pair();
    open.push(a, b);
    const unreachable: string[] = [];
    b.onUnreachable((peer) => unreachable.push(peer));
    const reply: ElectionMessage = { type: 'AppendEntriesReply', from: 'b', to: 'a', term: 4, success: true };
    for (let i = 0; i < 3; i++) {
      const delivered = nextMessage(a);
      b.probe(reply);
      assert.deepEqual(await delivered, reply);
    }
    assert.deepEqual([unreachable, b.refused, a.drops.total], [[], 0, 0]);
  });

  test('a probe to a peer that is gone is refused: the peer is reported unreachable', async () => {
    const [a, b] = await pair();
    open.push(b);
    const probe: ElectionMessage = { type: 'AppendEntriesReply', from: 'b', to: 'a', term: 4, success: true };
    const delivered = nextMessage(a);
    b.probe(probe);
    await delivered;
    await a.close(); // its process gone: nothing listens at its port any more
    const reported = new Promise<string>((resolve) => b.onUnreachable(resolve));
    b.probe(probe);
    assert.equal(await reported, 'a');
    assert.equal(b.refused, 1);
    // A plain send to it is a lost datagram, as ever: an unconnected socket hears no refusal. Its
    // refusal would come before those of the probes sent after it: two probes, two refusals.
    b.send(probe);
    b.probe(probe);
    await until(() => b.refused >= 2, 'the second refusal');
    b.probe(probe);
    await until(() => b.refused >= 3, 'the third refusal');
    assert.equal(b.refused, 3, 'the plain send was not counted');
  });

  test('a probe to a peer never started (its port closed from the start) is refused too', async () => {
    const port = await freePortRange(1);
    const b = await UdpTransport.open({
      bindHost: '127.0.0.1',
      port: 0,
      secret: SECRET,
      clusterId: CLUSTER,
      self: 'b',
      peers: [{ id: 'a', host: '127.0.0.1', port }],
    });
    open.push(b);
    const reported = new Promise<string>((resolve) => b.onUnreachable(resolve));
    b.probe({ type: 'AppendEntriesReply', from: 'b', to: 'a', term: 1, success: true });
    assert.equal(await reported, 'a');
  });

  test('a datagram to a known address leaves before send returns: sent just before close, it arrives', {
    timeout: 5_000,
  }, async () => {
    // The election logs and tells its listeners after sending; a datagram that waited for a later
    // turn of the event loop would wait for all of that (and here, find the transport closed).
    const [a, b] = await pair();
    open.push(b);
    const delivered = nextMessage(b);
    const vote: ElectionMessage = { type: 'RequestVote', from: 'a', to: 'b', term: 7, preVote: false };
    a.send(vote);
    await a.close();
    assert.deepEqual(await delivered, vote);
  });

  test('garbage is counted and logged as drops, and the transport keeps working', async () => {
    const logged: { obj: object; msg: string }[] = [];
    const [a, b] = await pair({ debug: (obj, msg) => logged.push({ obj, msg }) });
    open.push(a, b);

    const raw = createSocket('udp4');
    const sendRaw = (buf: Buffer) =>
      new Promise<void>((resolve, reject) =>
        raw.send(buf, b.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    await sendRaw(Buffer.from('hello'));
    await sendRaw(Buffer.alloc(2000, 1));
    await sendRaw(Buffer.concat([Buffer.from('ENSB\x01', 'latin1'), Buffer.alloc(40)]));

    // Sent after the garbage, so on loopback it arrives after it.
    const delivered = nextMessage(b);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 5 });
    assert.deepEqual(await delivered, { type: 'AppendEntries', from: 'a', to: 'b', term: 5 });
    await until(() => b.drops.total === 3, 'three drops');
    assert.deepEqual(b.drops.snapshot(), {
      total: 3,
      oversized: 1,
      malformed: 1,
      'bad-version': 0,
      'bad-signature': 1,
      'wrong-cluster': 0,
      'unknown-sender': 0,
      misaddressed: 0,
      stale: 0,
      replayed: 0,
    });
    const drops = logged.filter((l) => l.msg === 'datagram dropped');
    assert.equal(drops.length, 3);
    const rawPort = raw.address().port;
    for (const d of drops) assert.equal((d.obj as { remote: string }).remote, `127.0.0.1:${rawPort}`);

    // A replayed valid datagram is dropped too. The recording comes from a later incarnation of
    // 'a', so it is accepted the first time.
    const later = new DatagramEncoder({
      secret: SECRET,
      clusterId: CLUSTER,
      boot: Date.now() + 60_000,
      now: Date.now,
    });
    const recorded = later.encode({ type: 'AppendEntries', from: 'a', to: 'b', term: 6 });
    const first = nextMessage(b);
    await sendRaw(recorded);
    assert.equal((await first).term, 6);
    await sendRaw(recorded);
    const afterReplay = nextMessage(b);
    await sendRaw(later.encode({ type: 'AppendEntries', from: 'a', to: 'b', term: 7 }));
    assert.equal((await afterReplay).term, 7);
    assert.equal(b.drops.get('replayed'), 1);
    raw.close();
  });

  test('sending to an unknown peer or an unencodable message neither throws nor sends', async () => {
    const logged: string[] = [];
    const t = await UdpTransport.open({
      bindHost: '127.0.0.1',
      port: 0,
      self: 'a',
      secret: SECRET,
      clusterId: CLUSTER,
      peers: [{ id: 'b', host: '127.0.0.1', port: 9 }],
      logger: { debug: (_o, msg) => logged.push(msg) },
    });
    open.push(t);
    t.send({ type: 'AppendEntries', from: 'a', to: 'nobody', term: 1 });
    t.send({ type: 'AppendEntries', from: 'a', to: 'b', term: -1 });
    assert.equal(t.sendErrors, 1);
    assert.deepEqual(logged, ['send to unknown peer ignored', 'cannot encode message']);
  });

  test('a handler that throws does not stop delivery to the others', async () => {
    const [a, b] = await pair();
    open.push(a, b);
    b.onMessage(() => {
      throw new Error('boom');
    });
    const got = nextMessage(b);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 1 });
    assert.equal((await got).term, 1);
  });

  test('binding a port in use rejects, and close is idempotent', async () => {
    const t = await UdpTransport.open({
      bindHost: '127.0.0.1',
      port: 0,
      self: 'a',
      secret: SECRET,
      clusterId: CLUSTER,
      peers: [] as Peer[],
    });
    await assert.rejects(
      UdpTransport.open({
        bindHost: '127.0.0.1',
        port: t.port,
        self: 'b',
        secret: SECRET,
        clusterId: CLUSTER,
        peers: [],
      }),
      /EADDRINUSE/,
    );
    await t.close();
    await t.close();
    t.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 1 }); // ignored after close
  });
});
