/**
 * Connections to whichever host of DATABASE_URL is the writable primary, as libpq does with
 * `target_session_attrs=read-write`: try the hosts (all at once, unlike libpq, so a dead one
 * cannot hold up the search), and after connecting ask each server whether it is read-only or in
 * recovery; skip it if so. During a failover, a connection may wait (bounded) for a host to
 * become the writable primary (primary-watch.ts: the hosts watched on kept connections). pg has
 * no multi-host support, so every connection of a node comes from here: raw clients (the
 * migrations lock, the LISTEN feed) from `connect()`, the pool's from `PrimaryClient`.
 *
 * A connection that sees an error meaning the primary moved (primary-lost.ts) makes the locator
 * forget the host, and the pool destroys that connection instead of keeping it: the next one is
 * made to the new primary. With one host and no target_session_attrs nothing is checked, as before.
 */
import pg from 'pg';
import { type DatabaseHost, type DatabaseUrl, parseDatabaseUrl } from './database-url.js';
import { isPrimaryLost, NoWritablePrimaryError } from './primary-lost.js';
import { PrimaryWatch, type ServerState } from './primary-watch.js';

/** With several hosts, one that does not answer is given up after this long. */
const MULTI_HOST_CONNECT_TIMEOUT_MS = 2_000;
/**
 * An idle connection is probed after this long without traffic (TCP keepalive; libuv then probes
 * every second, 10 times): one to a host that vanished without a reset — a pooled connection, the
 * event feed's LISTEN — fails within ≈ 15 s instead of never. (Node sets no TCP_USER_TIMEOUT: a
 * query in flight is bounded by the pool's query timeout, database.ts.)
 */
const KEEPALIVE_IDLE_MS = 5_000;
/**
 * How long a pool connection waits for a primary while none is writable. Short enough that a
 * database probe (2 s) and a write held by it still answer in time, long enough that most of a
 * switchover's no-primary window is waited out within one request.
 */
export const PRIMARY_WAIT_MS = 1_000;

export class PrimaryLocator {
  private known: DatabaseHost | null = null;
  private finding: Promise<DatabaseHost> | null = null;
  /** The hosts watched while anyone waits for a primary (see find), or null. */
  private watching: PrimaryWatch | null = null;
  private waiting = 0;

  constructor(readonly url: DatabaseUrl) {}

  /**
   * A raw client on the writable primary; the caller ends it. With `waitMs`, a failover in
   * progress (no host writable yet) is waited out for up to that long.
   */
  async connect(waitMs = 0): Promise<pg.Client> {
    try {
      return (await this.connectFirstWritable()).client;
    } catch (error) {
      if (waitMs <= 0 || !isPrimaryLost(error)) throw error;
      await this.find(waitMs);
      return (await this.connectFirstWritable()).client;
    }
  }

  /**
   * A host that was the writable primary a moment ago (one search at a time). With `waitMs`, while
   * no host is writable (a failover: the old primary gone, the standby not yet promoted), the
   * hosts are watched (one PrimaryWatch shared by every waiter) until one is, for up to `waitMs`:
   * the caller goes on the moment the new primary answers instead of failing and being retried.
   */
  async find(waitMs = 0): Promise<DatabaseHost> {
    if (this.known) return this.known;
    // One host, nothing to check (the parser allows `any` only then): no search, as before.
    if (this.url.targetSessionAttrs === 'any') return this.url.hosts[0] as DatabaseHost;
    if (waitMs <= 0) return this.searchOnce();
    return this.whileWatched(waitMs, (watch) => watch.found);
  }

  /**
   * Where a pool connection should go: the writable primary when one is known (`standby` false);
   * during a failover, the first host the watch sees as a standby (`standby` true: the connection
   * then waits there for its promotion, see primaryClientClass) or the primary the moment one is
   * found — for up to `waitMs`, after which the hosts' failure is thrown.
   */
  async hostToConnect(waitMs: number): Promise<{ host: DatabaseHost; standby: boolean }> {
    if (this.known) return { host: this.known, standby: false };
    if (this.url.targetSessionAttrs === 'any')
      return { host: this.url.hosts[0] as DatabaseHost, standby: false };
    let standby = false;
    const host = await this.whileWatched(waitMs, (watch) =>
      Promise.race([
        watch.found,
        watch.standby.then((seen) => {
          standby = true;
          return seen;
        }),
      ]),
    );
    // The standby may have been promoted meanwhile: a known primary wins.
    return this.known === host ? { host, standby: false } : { host, standby };
  }

  /** Keeps the hosts watched while `until` waits on the watch, for up to `waitMs`. */
  private async whileWatched(
    waitMs: number,
    until: (watch: PrimaryWatch) => Promise<DatabaseHost | null>,
  ): Promise<DatabaseHost> {
    this.waiting++;
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        late = true;
        resolve(null);
      }, waitMs);
    });
    try {
      for (;;) {
        const watch = this.watch();
        const found = await Promise.race([until(watch), timeout]);
        if (found) return found;
        // A watch that ended as this waiter came (the last one before it gave up) is started anew.
        if (late) {
          if (this.known) return this.known; // found as the time ran out
          throw watch.failure();
        }
      }
    } finally {
      clearTimeout(timer);
      this.waiting--;
    }
  }

  private watch(): PrimaryWatch {
    if (this.watching) return this.watching;
    const watch = new PrimaryWatch(
      this.url.hosts,
      {
        client: (host) => new pg.Client(this.configFor(host)),
        state: (client) => this.state(client),
      },
      () => this.waiting > 0,
    );
    this.watching = watch;
    // First: known before any waiter goes on.
    watch.found.then(
      (found) => {
        if (found) this.known = found;
        if (this.watching === watch) this.watching = null;
      },
      () => {
        if (this.watching === watch) this.watching = null;
      },
    );
    return watch;
  }

  /** The primary moved away from `host` (or it failed): search again next time. */
  forget(host: DatabaseHost): void {
    if (this.known === host) this.known = null;
  }

  /** pg settings for a connection to `host`. */
  configFor(host: DatabaseHost): pg.ClientConfig {
    const keepAlive = { keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS };
    return this.url.hosts.length > 1
      ? { connectionTimeoutMillis: MULTI_HOST_CONNECT_TIMEOUT_MS, ...keepAlive, ...host.config }
      : { ...keepAlive, ...host.config };
  }

  /** Why `client`'s server will not do for the node, or null when it will. */
  async refusal(client: pg.Client): Promise<string | null> {
    if (this.url.targetSessionAttrs === 'any') return null;
    return (await this.state(client)).refusal;
  }

  /** Whether `client`'s server is in recovery, and why it will not do for the node (or null). */
  async state(client: pg.Client): Promise<ServerState> {
    const { rows } = await client.query<{ in_recovery: boolean; read_only: string }>(
      "select pg_is_in_recovery() as in_recovery, current_setting('transaction_read_only') as read_only",
    );
    const row = rows[0];
    const inRecovery = row?.in_recovery !== false;
    const attrs = this.url.targetSessionAttrs;
    if (attrs === 'primary' && inRecovery) return { inRecovery, refusal: 'is a standby (in recovery)' };
    if (attrs === 'read-write' && row?.read_only !== 'off') return { inRecovery, refusal: 'is read-only' };
    return { inRecovery, refusal: null };
  }

  private searchOnce(): Promise<DatabaseHost> {
    this.finding ??= this.connectFirstWritable()
      .then(async ({ client, host }) => {
        await client.end();
        return host;
      })
      .finally(() => {
        this.finding = null;
      });
    return this.finding;
  }

  /**
   * A connection to the writable primary. With several hosts every host is tried at once, so one
   * that hangs (a dead machine whose packets vanish) does not hold up the others for its connect
   * timeout; the first writable one to answer is taken (a failover manager keeps at most one),
   * the others are closed. The error of a fruitless search names every host, in the URL's order.
   */
  private async connectFirstWritable(): Promise<{ client: pg.Client; host: DatabaseHost }> {
    const hosts = this.url.hosts;
    if (hosts.length === 1) {
      const attempt = await this.tryHost(hosts[0] as DatabaseHost, true);
      if ('client' in attempt) return attempt;
      this.known = null;
      throw new NoWritablePrimaryError(
        `no writable primary among the database hosts (${attempt.failure})`,
        attempt.answered,
      );
    }
    const failures: string[] = new Array(hosts.length);
    return new Promise((resolve, reject) => {
      let pending = hosts.length;
      let taken = false;
      let answered = false;
      hosts.forEach((host, i) => {
        void this.tryHost(host, false).then((attempt) => {
          pending--;
          if ('client' in attempt) {
            if (taken) {
              void attempt.client.end().catch(() => {});
              return;
            }
            taken = true;
            this.known = host;
            resolve(attempt);
            return;
          }
          failures[i] = attempt.failure;
          answered ||= attempt.answered;
          if (pending === 0 && !taken) {
            this.known = null;
            reject(
              new NoWritablePrimaryError(
                `no writable primary among the database hosts (${failures.join('; ')})`,
                answered,
              ),
            );
          }
        });
      });
    });
  }

  /** A writable connection to `host`, or why not (with one host its own error is thrown, as before). */
  private async tryHost(
    host: DatabaseHost,
    only: boolean,
  ): Promise<{ client: pg.Client; host: DatabaseHost } | { failure: string; answered: boolean }> {
    const client = new pg.Client(this.configFor(host));
    // Until the caller takes it, an error of this connection is ours to swallow (we end it).
    const ignore = () => {};
    client.on('error', ignore);
    let failure: string;
    let answered = false;
    try {
      await client.connect();
      const refusal = await this.refusal(client);
      if (refusal === null) {
        client.off('error', ignore);
        return { client, host };
      }
      failure = `${host.name} ${refusal}`;
      answered = true;
    } catch (error) {
      if (only) {
        await client.end().catch(() => {});
        throw error; // one host: its own error, as before
      }
      failure = `${host.name}: ${(error as Error).message}`;
    }
    await client.end().catch(() => {});
    return { failure, answered };
  }
}

/** One locator per URL in this process: the pool, the feed and the migrations lock share what they learn. */
const locators = new Map<string, PrimaryLocator>();

export function primaryLocator(databaseUrl: string): PrimaryLocator {
  let locator = locators.get(databaseUrl);
  if (!locator) {
    locator = new PrimaryLocator(parseDatabaseUrl(databaseUrl));
    locators.set(databaseUrl, locator);
  }
  return locator;
}

/**
 * pg's Client for the pool (its `Client` option): it connects to the host the locator found and
 * checks it is writable on this very connection (the primary may have moved in between). After
 * an error meaning the primary moved, it is released to the pool as failed, which destroys it.
 */
export function primaryClientClass(
  locator: PrimaryLocator,
  options: {
    /** Run on each new connection once it is known writable, before the pool hands it out. */
    readonly prepare?: (client: pg.Client) => Promise<void>;
    /** A query unanswered this long fails (pg's query_timeout) and its connection is destroyed. */
    readonly queryTimeoutMs?: number;
  } = {},
): typeof pg.Client {
  const { prepare, queryTimeoutMs } = options;
  return class PrimaryClient extends pg.Client {
    private target: DatabaseHost | null = null;
    private primaryLost: Error | null = null;
    private poolRelease: ((error?: Error) => void) | null = null;

    constructor(config?: pg.ClientConfig) {
      // The pool's settings (types, timeouts…), then the URL's: ssl and the rest, the same for every host.
      super({
        ...config,
        ...locator.configFor(locator.url.hosts[0] as DatabaseHost),
        ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
      });
      // pg-pool hands a checked-out client its `release`; kysely calls it without an error, so
      // the error this connection saw is added here.
      Object.defineProperty(this, 'release', {
        configurable: true,
        get: () => (error?: Error) => this.poolRelease?.(error ?? this.primaryLost ?? undefined),
        set: (release: (error?: Error) => void) => {
          this.poolRelease = release;
        },
      });
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      this.query = ((...args: unknown[]) => {
        const result = query(...args);
        return result instanceof Promise ? result.catch((error) => this.failed(error)) : result;
      }) as pg.Client['query'];
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
    ): Promise<pg.Client> | undefined {
      const connected = this.connectToPrimary();
      if (!callback) return connected;
      // pg-pool passes `(err) => …`: called with null on success, the error otherwise.
      const done = callback as (err: Error | null, c?: pg.Client) => void;
      connected.then((client) => done(null, client), done);
      return undefined;
    }

    private async connectToPrimary(): Promise<pg.Client> {
      // A connection asked for during a failover waits for the new primary (bounded) rather than
      // fail. It waits connected to a standby: a session lives through its server's promotion, so
      // the write or probe behind it goes on the moment the standby is promoted, without a
      // connection, its authentication and its warm-up after (≈ 0.1–0.3 s on a loaded machine).
      const deadline = performance.now() + PRIMARY_WAIT_MS;
      const { host: target, standby } = await locator.hostToConnect(PRIMARY_WAIT_MS);
      this.target = target;
      Object.assign(this, { host: target.config.host, port: target.config.port });
      // Until the pool takes this client and listens, an error (a server shutting down between
      // the connect and the check) is ours: unheard, it would crash the process.
      let lost: Error | null = null;
      const hold = (error: Error) => {
        lost ??= error;
      };
      this.on('error', hold);
      // A wait that ran out says nothing against the target (it may just have become the primary).
      let waitRanOut = false;
      try {
        await super.connect();
        let refusal = await locator.refusal(this);
        if (refusal !== null && standby) {
          const primary = await locator.find(Math.max(1, deadline - performance.now())).catch((error) => {
            waitRanOut = true;
            throw error;
          });
          if (lost) throw lost;
          // Another host was promoted: this connection is of no use (the pool makes another).
          refusal =
            primary === target ? await locator.refusal(this) : `${refusal} (the primary is ${primary.name})`;
        }
        if (lost) throw lost;
        if (refusal !== null) {
          locator.forget(target);
          throw new NoWritablePrimaryError(`${target.name} ${refusal}`, true);
        }
        // Not on a connection that waited out a promotion: at that moment every waiting connection
        // of every node would warm up at once (≈ 0.1–0.2 s of CPU on a loaded machine) before the
        // held write may go on; the append that uses one plans its statements itself.
        if (!standby) await prepare?.(this);
        if (lost) throw lost;
      } catch (error) {
        await this.end().catch(() => {}); // the pool forgets a client that failed to connect
        if (waitRanOut) throw error;
        this.failed(error);
      } finally {
        this.off('error', hold);
      }
      return this;
    }

    private failed(error: unknown): never {
      if (isPrimaryLost(error)) {
        this.primaryLost = error as Error;
        if (this.target) locator.forget(this.target);
      }
      throw error;
    }
  };
}
