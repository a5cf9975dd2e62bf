/**
 * Where each peer's name points, looked up when the transport sends and kept for a short while.
 *
 * On Kubernetes a node that comes back (a new pod of the StatefulSet) keeps its name but gets a
 * new IP: resolving at every send, with a cache of a couple of seconds and a fresh look-up after
 * a failed send, reaches it again without restarting anyone. Who sent a datagram is never read
 * from its source address — the signed node id in the frame says it (datagram-codec.ts).
 * An IP literal needs no look-up.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A name's address, as the system resolver (/etc/hosts, DNS) gives it. */
export type Lookup = (host: string, family: 4 | 6) => Promise<string>;

/** How long a resolved address is used before the name is looked up again. */
export const DEFAULT_PEER_ADDRESS_TTL_MS = 2_000;

export const systemLookup: Lookup = async (host, family) => (await dnsLookup(host, { family })).address;

interface Entry {
  readonly address: Promise<string>;
  readonly until: number;
  /** The address once the look-up has answered. */
  resolved?: string;
}

export class PeerAddresses {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly options: {
      readonly family: 4 | 6;
      readonly ttlMs?: number;
      readonly lookup?: Lookup;
      readonly now?: () => number;
    },
  ) {}

  /**
   * The host's address if it is known now — an IP, or a look-up answered within the TTL — so that
   * the datagram goes out at once, not after a promise's turn (resolve); else null.
   */
  known(host: string): string | null {
    if (isIP(host) !== 0) return host;
    const cached = this.entries.get(host);
    return cached?.resolved !== undefined && cached.until > (this.options.now ?? Date.now)()
      ? cached.resolved
      : null;
  }

  /** The host's address: itself for an IP, else the cached look-up or a fresh one. Rejects when it does not resolve. */
  resolve(host: string): Promise<string> {
    if (isIP(host) !== 0) return Promise.resolve(host);
    const now = (this.options.now ?? Date.now)();
    const cached = this.entries.get(host);
    if (cached && cached.until > now) return cached.address;
    const lookup = this.options.lookup ?? systemLookup;
    const address = lookup(host, this.options.family);
    const entry: Entry = { address, until: now + (this.options.ttlMs ?? DEFAULT_PEER_ADDRESS_TTL_MS) };
    this.entries.set(host, entry);
    address.then(
      (resolved) => {
        entry.resolved = resolved;
      },
      // A name that did not resolve is asked again at the next send, not after the TTL.
      () => {
        if (this.entries.get(host) === entry) this.entries.delete(host);
      },
    );
    return address;
  }

  /** A send to the host failed: look its name up again next time. */
  forget(host: string): void {
    this.entries.delete(host);
  }
}
