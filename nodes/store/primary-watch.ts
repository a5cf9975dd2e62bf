/**
 * The wait for a new primary while none is writable (a failover or a switchover under way), as
 * close to an event as PostgreSQL allows. It announces no promotion, and a search (a connection
 * and its authentication per host) every 100 ms made every write wait for the next search after
 * the promotion, plus that search's own time — ≈ 0.1–0.3 s on a loaded machine. So each host is
 * watched on a connection of its own, kept open: a standby's sessions live on through its
 * promotion, and the question "still in recovery?" is one round trip on it, asked every
 * WATCH_POLL_MS. The wait ends the moment a host answers writable.
 *
 * The cost stays bounded: one kept connection per host, one trivial query per host per poll, and
 * a host that refuses or drops connections is tried again only every RECONNECT_MS (on a real
 * network a dead host costs its connect timeout per attempt anyway). A server out of recovery but
 * read-only for another reason (a session default) is reconnected every RECONNECT_MS too: a kept
 * session would not see that change.
 */
import type pg from 'pg';
import type { DatabaseHost } from './database-url.js';
import { isPrimaryLost, NoWritablePrimaryError } from './primary-lost.js';

/** How often a watched standby is asked whether it was promoted. */
export const WATCH_POLL_MS = 20;
/** How soon a host that refused, dropped or could not take the connection is tried again. */
export const RECONNECT_MS = 100;

/** What a server says about itself: in recovery (a standby), and why it will not do (or null). */
export interface ServerState {
  readonly inRecovery: boolean;
  readonly refusal: string | null;
}

/** The latest word from one host: why it is not the primary, and whether it answered at all. */
interface HostState {
  readonly failure: string;
  readonly answered: boolean;
  /** It answered as a standby (in recovery). */
  readonly standby?: boolean;
  /** With a single host, its own error (as a one-host URL always reported it). */
  readonly error?: Error;
}

export class PrimaryWatch {
  /** Resolves with the first host that answers writable, or null once nobody waits any more. */
  readonly found: Promise<DatabaseHost | null>;
  /**
   * Resolves with a host that answers as a standby once every host has answered (or failed) and
   * none was writable: the one a failover will promote, most likely. Not before every host had
   * its say, so that a writable primary is never passed over for a standby.
   */
  readonly standby: Promise<DatabaseHost>;
  private standbySeen: (host: DatabaseHost) => void = () => {};
  private readonly states: (HostState | undefined)[];
  private done = false;

  constructor(
    private readonly hosts: readonly DatabaseHost[],
    private readonly server: {
      /** A client for `host` (not yet connected). */
      readonly client: (host: DatabaseHost) => pg.Client;
      readonly state: (client: pg.Client) => Promise<ServerState>;
    },
    /** Asked between polls: false ends the watch (nobody waits). */
    private readonly wanted: () => boolean,
  ) {
    this.states = new Array(hosts.length);
    this.standby = new Promise((resolve) => {
      this.standbySeen = resolve;
    });
    this.found = new Promise((resolve, reject) => {
      const finish = (host: DatabaseHost | null, error?: Error) => {
        if (this.done) return;
        this.done = true;
        if (error) reject(error);
        else resolve(host);
      };
      hosts.forEach((host, i) => {
        // A watch ends without a primary only when nobody waits any more (or another found one).
        void this.watch(host, i).then(
          (writable) => finish(writable ? host : null),
          (error: Error) => finish(null, error),
        );
      });
    });
  }

  /** Why no host is the writable primary, as the hosts last answered (URL order). */
  failure(): Error {
    const states = this.hosts.map(
      (host, i) => this.states[i] ?? { failure: `${host.name}: no answer yet`, answered: false },
    );
    const only = this.hosts.length === 1 ? states[0] : undefined;
    if (only?.error) return only.error;
    return new NoWritablePrimaryError(
      `no writable primary among the database hosts (${states.map((s) => s.failure).join('; ')})`,
      states.some((s) => s.answered),
    );
  }

  private update(i: number, state: HostState): void {
    this.states[i] = state;
    if (!this.hosts.every((_, j) => this.states[j] !== undefined)) return;
    const standby = this.states.findIndex((s) => s?.standby);
    if (standby >= 0) this.standbySeen(this.hosts[standby] as DatabaseHost);
  }

  /** Watches one host until it answers writable (true) or the watch ends (false). */
  private async watch(host: DatabaseHost, i: number): Promise<boolean> {
    let client: pg.Client | null = null;
    const ignore = () => {}; // a kept connection's error is seen by its next query
    try {
      for (;;) {
        let pause = RECONNECT_MS;
        try {
          if (!client) {
            client = this.server.client(host);
            client.on('error', ignore);
            await client.connect();
          }
          const { inRecovery, refusal } = await this.server.state(client);
          if (refusal === null) return true;
          this.update(i, { failure: `${host.name} ${refusal}`, answered: true, standby: inRecovery });
          // A standby is kept and asked again soon: its promotion shows on this very session.
          if (inRecovery) pause = WATCH_POLL_MS;
          else client = await close(client);
        } catch (error) {
          // One host: an error that is no failover (a wrong password) ends the wait at once.
          if (this.hosts.length === 1 && !isPrimaryLost(error)) throw error;
          this.update(i, {
            failure: `${host.name}: ${(error as Error).message}`,
            answered: false,
            error: error as Error,
          });
          client = await close(client);
        }
        if (this.done || !this.wanted()) return false;
        await new Promise((resolve) => setTimeout(resolve, pause));
        if (this.done || !this.wanted()) return false;
      }
    } finally {
      await close(client);
    }
  }
}

async function close(client: pg.Client | null): Promise<null> {
  await client?.end().catch(() => {});
  return null;
}
