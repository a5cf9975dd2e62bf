import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import type { ElectionMessage } from '../election/messages.js';
import { DatagramEncoder } from './datagram-codec.js';
import { type Lookup, PeerAddresses } from './peer-addresses.js';
import { UdpTransport } from './udp-transport.js';

const SECRET = 'peer addresses test secret';
const CLUSTER = 'peer-addresses-test';

/** A resolver whose answers the test changes, counting the look-ups. */
function hostsTable(initial: Record<string, string>) {
  const table = new Map(Object.entries(initial));
  const asked: string[] = [];
  const lookup: Lookup = async (host) => {
    asked.push(host);
    const address = table.get(host);
    if (address === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return address;
  };
  return { table, asked, lookup };
}

describe('PeerAddresses', () => {
  test('reuses a look-up for the TTL, then asks again', async () => {
    let now = 1_000;
    const hosts = hostsTable({ 'node-1.test': '10.0.0.1' });
    const addresses = new PeerAddresses({ family: 4, ttlMs: 2_000, lookup: hosts.lookup, now: () => now });
    assert.equal(await addresses.resolve('node-1.test'), '10.0.0.1');
    hosts.table.set('node-1.test', '10.0.0.2');
    now += 1_999;
    assert.equal(await addresses.resolve('node-1.test'), '10.0.0.1', 'cached within the TTL');
    now += 1;
    assert.equal(await addresses.resolve('node-1.test'), '10.0.0.2', 'looked up again after it');
    assert.deepEqual(hosts.asked, ['node-1.test', 'node-1.test']);
  });

  test('an IP is its own address; a failed name or a forgotten one is looked up at the next send', async () => {
    const hosts = hostsTable({});
    const addresses = new PeerAddresses({ family: 4, ttlMs: 60_000, lookup: hosts.lookup });
    assert.equal(await addresses.resolve('127.0.0.5'), '127.0.0.5');
    assert.equal(await addresses.resolve('::1'), '::1');
    assert.deepEqual(hosts.asked, []);
    await assert.rejects(addresses.resolve('node-2.test'), /ENOTFOUND node-2\.test/);
    hosts.table.set('node-2.test', '10.0.0.2');
    assert.equal(await addresses.resolve('node-2.test'), '10.0.0.2', 'not cached as a failure');
    hosts.table.set('node-2.test', '10.0.0.3');
    addresses.forget('node-2.test');
    assert.equal(await addresses.resolve('node-2.test'), '10.0.0.3');
  });

  test('an address is known at once for an IP, and for a name once its look-up answered, until the TTL or forget', async () => {
    let now = 1_000;
    const hosts = hostsTable({ 'node-1.test': '10.0.0.1' });
    const addresses = new PeerAddresses({ family: 4, ttlMs: 2_000, lookup: hosts.lookup, now: () => now });
    assert.equal(addresses.known('127.0.0.5'), '127.0.0.5');
    assert.equal(addresses.known('node-1.test'), null, 'never looked up');
    const asked = addresses.resolve('node-1.test');
    assert.equal(addresses.known('node-1.test'), null, 'look-up not answered yet');
    await asked;
    assert.equal(addresses.known('node-1.test'), '10.0.0.1');
    now += 2_000;
    assert.equal(addresses.known('node-1.test'), null, 'past the TTL');
    await addresses.resolve('node-1.test');
    addresses.forget('node-1.test');
    assert.equal(addresses.known('node-1.test'), null, 'forgotten after a failed send');
    assert.equal(addresses.known('node-2.test'), null);
    await assert.rejects(addresses.resolve('node-2.test'));
    assert.equal(addresses.known('node-2.test'), null, 'a failed look-up is not an address');
  });

  test('the system resolver reads localhost from /etc/hosts', async () => {
    assert.equal(await new PeerAddresses({ family: 4 }).resolve('localhost'), '127.0.0.1');
  });
});

/** The next message a transport delivers. */
function nextMessage(t: UdpTransport): Promise<ElectionMessage> {
  return new Promise((resolve) => {
    const off = t.onMessage((msg) => {
      off();
      resolve(msg);
    });
  });
}

describe('UdpTransport with peers by name', () => {
  const open: UdpTransport[] = [];
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
  });
  const common = { port: 0, secret: SECRET, clusterId: CLUSTER };
  /** Node b listening on `bindHost` (on `port`, or a free one); a is at a name no one resolves. */
  const openB = async (bindHost: string, port = 0) => {
    const b = await UdpTransport.open({
      ...common,
      self: 'b',
      bindHost,
      port,
      peers: [{ id: 'a', host: 'a.nodes.test', port: 9 }],
      lookup: hostsTable({}).lookup,
    });
    open.push(b);
    return b;
  };

  test("datagrams follow a peer's name to its new address, and the sender is its signed id", async () => {
    // Peer b's first home, then its second on another address and the same port: a pod back with a new IP.
    const first = await openB('127.0.0.2');
    const second = await openB('127.0.0.3', first.port);
    const hosts = hostsTable({ 'b.nodes.test': '127.0.0.2' });
    const a = await UdpTransport.open({
      ...common,
      self: 'a',
      bindHost: '127.0.0.1',
      peers: [{ id: 'b', host: 'b.nodes.test', port: first.port }],
      lookup: hosts.lookup,
      peerAddressTtlMs: 0, // every send looks the name up
    });
    open.push(a);

    const atFirst = nextMessage(first);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 1 });
    assert.deepEqual(await atFirst, { type: 'AppendEntries', from: 'a', to: 'b', term: 1 });

    hosts.table.set('b.nodes.test', '127.0.0.3');
    const atSecond = nextMessage(second);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 2 });
    assert.deepEqual(await atSecond, { type: 'AppendEntries', from: 'a', to: 'b', term: 2 });
    assert.equal(first.received, 1, 'nothing more reached the old address');
    assert.equal(a.sendErrors, 0);
  });

  test('a name that does not resolve is a counted send error, and is looked up again at the next send', async () => {
    const b = await openB('127.0.0.1');
    const hosts = hostsTable({});
    const warned: string[] = [];
    const a = await UdpTransport.open({
      ...common,
      self: 'a',
      bindHost: '127.0.0.1',
      peers: [{ id: 'b', host: 'late.nodes.test', port: b.port }],
      lookup: hosts.lookup,
      peerAddressTtlMs: 60_000,
      logger: { debug() {}, warn: (_obj, msg) => warned.push(msg) },
    });
    open.push(a);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 1 });
    await new Promise<void>((resolve) => {
      const check = () => (a.sendErrors === 1 ? resolve() : setImmediate(check));
      check();
    });
    assert.deepEqual(warned, ['udp send failed']);
    // The pod's name appears in DNS (it was scheduled): the next send reaches it, TTL or not.
    hosts.table.set('late.nodes.test', '127.0.0.1');
    const got = nextMessage(b);
    a.send({ type: 'AppendEntries', from: 'a', to: 'b', term: 2 });
    assert.equal((await got).term, 2);
  });

  test('a datagram is taken by its signed sender id, whatever address it comes from', async () => {
    const b = await openB('127.0.0.1');
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.9', resolve));
    const send = (frame: Buffer) =>
      new Promise<void>((resolve, reject) =>
        stranger.send(frame, b.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    const signedBy = (secret: string) =>
      new DatagramEncoder({ secret, clusterId: CLUSTER, boot: Date.now(), now: Date.now });
    // From an address that is not a's (its name does not even resolve): a's signature makes it a's.
    const got = nextMessage(b);
    await send(signedBy(SECRET).encode({ type: 'AppendEntries', from: 'a', to: 'b', term: 3 }));
    assert.deepEqual(await got, { type: 'AppendEntries', from: 'a', to: 'b', term: 3 });
    // Claiming to be a without the secret is dropped, wherever it comes from.
    await send(
      signedBy('not the cluster secret').encode({ type: 'AppendEntries', from: 'a', to: 'b', term: 4 }),
    );
    await new Promise<void>((resolve) => {
      const check = () => (b.drops.total === 1 ? resolve() : setImmediate(check));
      check();
    });
    assert.equal(b.drops.get('bad-signature'), 1);
    assert.equal(b.received, 1);
    stranger.close();
  });
});
