/**
 * The election's UDP adapter: a socket, the peers' addresses, and the datagram codec.
 *
 * UDP suits leader election: every message is idempotent and superseded by the next one, so a
 * lost datagram costs one tick and nothing needs retransmitting. Nothing that arrives from the
 * network can throw out of here; it is either delivered or counted as a drop.
 *
 * Probes (`probe`) leave from a second socket per peer, connected to the peer's address: there
 * the kernel reports an ICMP "port unreachable" as ECONNREFUSED — nobody listens at that port, so
 * the peer's process is gone — which an unconnected socket never hears of. A dead host, a cut
 * link or a firewall that drops answers nothing: then only the election timeout tells.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { ElectionMessage, NodeId } from '../election/messages.js';
import { DatagramDecoder, DatagramEncoder, DropCounters } from './datagram-codec.js';
import { MAX_ID_LENGTH } from './datagram-payload.js';
import { type Lookup, PeerAddresses } from './peer-addresses.js';

export interface Peer {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
}

/** The subset of pino we use, so tests and callers can pass anything shaped like it. */
export interface TransportLogger {
  debug(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

export interface UdpTransportOptions {
  readonly self: NodeId;
  readonly bindHost: string;
  /** 0 picks a free port; read it back from `port`. */
  readonly port: number;
  /** The other nodes; an entry for `self` is allowed and ignored. */
  readonly peers: readonly Peer[];
  readonly secret: string;
  readonly clusterId: string;
  readonly logger?: TransportLogger;
  readonly now?: () => number;
  /** Sender incarnation; defaults to the open time, kept strictly increasing within the process. */
  readonly boot?: number;
  readonly maxClockSkewMs?: number;
  /** How a peer's name is resolved (default: the system's resolver, /etc/hosts and DNS). */
  readonly lookup?: Lookup;
  /** How long a peer's resolved address is reused (default 2 s; a failed send forgets it at once). */
  readonly peerAddressTtlMs?: number;
  /** Open the probe sockets at once (for a node that probes), not at the first probe. */
  readonly openProbeSockets?: boolean;
}

export type MessageHandler = (msg: ElectionMessage) => void;

/** A peer's probe socket, connected (or connecting) to the address it was resolved to. */
interface ProbeSocket {
  readonly address: string;
  readonly socket: Socket;
  connected: boolean;
  /** The latest probe asked for while connecting: probes supersede each other. */
  pending: Buffer | null;
}

/** Parses `id@host:port,id@host:port`; IPv6 hosts go in brackets: `a@[::1]:7000`. */
export function parsePeers(spec: string): Peer[] {
  if (spec.trim() === '') return [];
  const peers: Peer[] = [];
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    const bad = (why: string): Error => new Error(`invalid peer "${entry}" in "${spec}": ${why}`);
    if (entry === '') throw bad('empty entry (stray comma?)');
    const at = entry.indexOf('@');
    if (at < 0) throw bad('expected id@host:port');
    const id = entry.slice(0, at);
    if (id === '') throw bad('empty id');
    if (id.length > MAX_ID_LENGTH) throw bad(`id longer than ${MAX_ID_LENGTH} characters`);
    if (/\s/.test(id)) throw bad('id contains whitespace');
    const address = entry.slice(at + 1);
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw bad('missing :port');
    let host = address.slice(0, colon);
    const portText = address.slice(colon + 1);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    else if (host.includes(':')) throw bad('IPv6 hosts must be written in brackets, e.g. [::1]:7000');
    if (host === '' || /[\s@[\]]/.test(host)) throw bad('bad host');
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) throw bad(`bad port "${portText}" (expected 1..65535)`);
    if (seen.has(id)) throw bad(`duplicate id "${id}"`);
    seen.add(id);
    peers.push({ id, host, port });
  }
  return peers;
}

/** dgram's look-up for the IPs the transport sends to: the address itself, synchronously. */
function ipAsItself(
  address: string,
  options: number | LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else dnsLookup(address, options as LookupOneOptions, callback);
}

// A process that opens, closes and reopens a node (tests, an in-process cluster) must still
// look like a new incarnation to its peers, even within the same millisecond.
let lastBoot = 0;
function nextBoot(now: number): number {
  lastBoot = Math.max(Math.floor(now), lastBoot + 1);
  return lastBoot;
}

const noopLogger: TransportLogger = { debug() {} };

export class UdpTransport {
  readonly drops = new DropCounters();
  private receivedCount = 0;
  private sentCount = 0;
  private sendErrorCount = 0;
  private readonly handlers = new Set<MessageHandler>();
  private readonly unreachableHandlers = new Set<(peer: NodeId) => void>();
  private readonly probeSockets = new Map<NodeId, ProbeSocket>();
  private refusedCount = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly self: NodeId,
    private readonly socket: Socket,
    private readonly peers: ReadonlyMap<NodeId, Peer>,
    private readonly encoder: DatagramEncoder,
    private readonly decoder: DatagramDecoder,
    private readonly logger: TransportLogger,
    private readonly addresses: PeerAddresses,
    /** The bound port, which differs from the requested one when that was 0. */
    readonly port: number,
    private readonly bindHost: string,
    openProbeSockets: boolean,
  ) {
    socket.on('message', (buf, rinfo) => this.receive(buf, rinfo));
    // Opened ahead, so that the first probe is not held up connecting one.
    for (const peer of openProbeSockets ? peers.values() : []) {
      this.addresses.resolve(peer.host).then(
        (address) => {
          if (!this.closed) this.probeSocket(peer, address);
        },
        () => {}, // resolved again at the first probe
      );
    }
  }

  static async open(opts: UdpTransportOptions): Promise<UdpTransport> {
    const now = opts.now ?? Date.now;
    const logger = opts.logger ?? noopLogger;
    const peers = new Map<NodeId, Peer>();
    for (const p of opts.peers) {
      if (p.id === opts.self) continue;
      if (peers.has(p.id)) throw new Error(`duplicate peer id "${p.id}"`);
      peers.set(p.id, p);
    }
    // Built before the socket exists, so bad configuration fails without leaking a socket.
    const encoder = new DatagramEncoder({
      secret: opts.secret,
      clusterId: opts.clusterId,
      boot: opts.boot ?? nextBoot(now()),
      now,
    });
    const decoder = new DatagramDecoder({
      secret: opts.secret,
      clusterId: opts.clusterId,
      self: opts.self,
      knownPeers: new Set(peers.keys()),
      now,
      ...(opts.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: opts.maxClockSkewMs }),
    });

    // dgram looks up even an IP with dns.lookup, which answers on process.nextTick — after the
    // caller's synchronous work (the election's logging and listeners). The transport resolves
    // names itself (PeerAddresses) and sends to IPs only, so an IP's "look-up" answers at once.
    const socket = createSocket({ type: opts.bindHost.includes(':') ? 'udp6' : 'udp4', lookup: ipAsItself });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.off('listening', onListening);
        socket.close();
        reject(err);
      };
      const onListening = (): void => {
        socket.off('error', onError);
        resolve();
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind({ address: opts.bindHost, port: opts.port });
    });
    // An unhandled 'error' event would kill the process; for an election a socket hiccup is
    // just lost datagrams, which Raft already tolerates.
    socket.on('error', (err) => warn(logger, { err }, 'udp socket error'));
    const addresses = new PeerAddresses({
      family: opts.bindHost.includes(':') ? 6 : 4,
      ...(opts.peerAddressTtlMs === undefined ? {} : { ttlMs: opts.peerAddressTtlMs }),
      ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
    });
    return new UdpTransport(
      opts.self,
      socket,
      peers,
      encoder,
      decoder,
      logger,
      addresses,
      socket.address().port,
      opts.bindHost,
      opts.openProbeSockets === true,
    );
  }

  /** Messages accepted and handed to the handlers. Raw arrivals = received + drops.total. */
  get received(): number {
    return this.receivedCount;
  }

  /** Datagrams the kernel accepted for sending. */
  get sent(): number {
    return this.sentCount;
  }

  get sendErrors(): number {
    return this.sendErrorCount;
  }

  /** Probes refused: nobody listened at the peer's address. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Called with a peer's id when a probe to it is refused (see `probe`). */
  onUnreachable(handler: (peer: NodeId) => void): () => void {
    this.unreachableHandlers.add(handler);
    return () => this.unreachableHandlers.delete(handler);
  }

  /**
   * Sends `msg` from the peer's probe socket, where a refusal — nobody listening at its address —
   * is reported to the `onUnreachable` handlers, within a round trip. Otherwise as `send`.
   */
  probe(msg: ElectionMessage): void {
    this.dispatch(msg, (peer, address, frame) =>
      this.probeFrom(peer, this.probeSocket(peer, address), frame),
    );
  }

  /** The peer's probe socket for `address`, opened (and the old one closed) when it moved. */
  private probeSocket(peer: Peer, address: string): ProbeSocket {
    const current = this.probeSockets.get(peer.id);
    if (current?.address === address) return current;
    current?.socket.close();
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', lookup: ipAsItself });
    const probe: ProbeSocket = { address, socket, connected: false, pending: null };
    this.probeSockets.set(peer.id, probe);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closed || this.probeSockets.get(peer.id) !== probe) return;
      if (err.code === 'ECONNREFUSED') {
        this.refusedBy(peer);
      } else if (!probe.connected) {
        // It could not bind or connect: let the next probe open another.
        warn(this.logger, { err, to: peer.id, address }, 'cannot open a probe socket');
        this.probeSockets.delete(peer.id);
        socket.close();
      } else {
        this.logger.debug({ err, to: peer.id }, 'probe socket error');
      }
    });
    socket.on('connect', () => {
      probe.connected = true;
      if (probe.pending !== null) this.probeFrom(peer, probe, probe.pending);
    });
    // From this node's own address, as its other datagrams, so that routes and filters agree.
    socket.bind({ address: this.bindHost, port: 0 }, () => {
      if (!this.closed) socket.connect(peer.port, address);
    });
    return probe;
  }

  private probeFrom(peer: Peer, probe: ProbeSocket, frame: Buffer): void {
    if (!probe.connected) {
      probe.pending = frame;
      return;
    }
    probe.pending = null;
    try {
      probe.socket.send(frame, (err: NodeJS.ErrnoException | null) => {
        if (err?.code === 'ECONNREFUSED') {
          if (this.probeSockets.get(peer.id) === probe) this.refusedBy(peer);
        } else if (err) this.sendErrorCount++;
        else this.sentCount++;
      });
    } catch {
      this.sendErrorCount++; // closed under us: a lost datagram
    }
  }

  private refusedBy(peer: Peer): void {
    if (this.closed) return;
    this.refusedCount++;
    // Maybe the peer is back at another address: look its name up afresh for the next probe.
    this.addresses.forget(peer.host);
    this.logger.debug(
      { to: peer.id, host: peer.host, port: peer.port },
      'probe refused: nobody listens there',
    );
    for (const handler of this.unreachableHandlers) {
      try {
        handler(peer.id);
      } catch (err) {
        warn(this.logger, { err, peer: peer.id }, 'unreachable handler threw');
      }
    }
  }

  /** Returns a function that removes the handler. */
  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Fire and forget, like the network under it: failures are logged and counted, never thrown. */
  send(msg: ElectionMessage): void {
    this.dispatch(msg, (peer, address, frame) => this.sendTo(peer, address, frame));
  }

  /** Encodes `msg` and hands it to `deliver` with its peer's address, resolved when unknown. */
  private dispatch(
    msg: ElectionMessage,
    deliver: (peer: Peer, address: string, frame: Buffer) => void,
  ): void {
    if (this.closed) return;
    const peer = this.peers.get(msg.to);
    if (peer === undefined) {
      this.logger.debug({ to: msg.to, type: msg.type }, 'send to unknown peer ignored');
      return;
    }
    let frame: Buffer;
    try {
      frame = this.encoder.encode(msg);
    } catch (err) {
      this.sendErrorCount++;
      warn(this.logger, { err, to: msg.to, type: msg.type }, 'cannot encode message');
      return;
    }
    // Sent before this call returns when the address is known: the election logs and tells its
    // listeners after sending, and a reply should not wait for that (nor for a promise's turn,
    // which runs only once they are done). Otherwise the peer's name is resolved now (briefly
    // cached), so a peer back on a new address is reached.
    const known = this.addresses.known(peer.host);
    if (known !== null) {
      deliver(peer, known, frame);
      return;
    }
    this.addresses.resolve(peer.host).then(
      (address) => {
        if (!this.closed) deliver(peer, address, frame);
      },
      (err: unknown) => this.sendFailed(peer, err),
    );
  }

  private sendTo(peer: Peer, address: string, frame: Buffer): void {
    if (this.closed) return;
    try {
      this.socket.send(frame, peer.port, address, (err) => {
        if (err) this.sendFailed(peer, err);
        else this.sentCount++;
      });
    } catch (err) {
      // dgram throws synchronously for some argument errors, e.g. a socket closed under us.
      this.sendFailed(peer, err);
    }
  }

  private sendFailed(peer: Peer, err: unknown): void {
    if (this.closed) return;
    this.sendErrorCount++;
    this.addresses.forget(peer.host);
    warn(this.logger, { err, to: peer.id, host: peer.host, port: peer.port }, 'udp send failed');
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.handlers.clear();
      this.unreachableHandlers.clear();
      for (const probe of this.probeSockets.values()) {
        try {
          probe.socket.close();
        } catch {
          // never bound, or closed already
        }
      }
      this.closing = new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      });
    }
    return this.closing;
  }

  private receive(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const result = this.decoder.decode(buf);
    if (!result.ok) {
      this.drops.record(result.reason);
      this.logger.debug(
        { reason: result.reason, remote: `${rinfo.address}:${rinfo.port}`, bytes: buf.length },
        'datagram dropped',
      );
      return;
    }
    this.receivedCount++;
    for (const handler of this.handlers) {
      // A throwing handler must not escape into the socket's event loop and take the node down.
      try {
        handler(result.msg);
      } catch (err) {
        warn(this.logger, { err, type: result.msg.type, from: result.msg.from }, 'message handler threw');
      }
    }
  }
}

function warn(logger: TransportLogger, obj: object, msg: string): void {
  if (logger.warn) logger.warn(obj, msg);
  else logger.debug(obj, msg);
}
