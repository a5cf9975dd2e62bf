/**
 * Connections to whichever host of DATABASE_URL is the writable primary, as libpq does with
 * `target_session_attrs=read-write`: try the hosts in the URL's order (the last one found
 * first), and after connecting ask the server whether it is read-only or in recovery; skip it if
 * so. pg has no multi-host support, so every connection of a node comes from here: raw clients
 * (the migrations lock, the LISTEN feed) from `connect()`, the pool's from `PrimaryClient`.
 *
 * A connection that sees an error meaning the primary moved (primary-lost.ts) makes the locator
 * forget the host, and the pool destroys that connection instead of keeping it: the next one is
 * made to the new primary. With one host and no target_session_attrs nothing is checked, as before.
 */
import pg from 'pg';
import { type DatabaseHost, type DatabaseUrl, parseDatabaseUrl } from './database-url.js';
import { isPrimaryLost, NoWritablePrimaryError } from './primary-lost.js';

/** With several hosts, one that does not answer must not hold up trying the next. */
const MULTI_HOST_CONNECT_TIMEOUT_MS = 5_000;

export class PrimaryLocator {
  private known: DatabaseHost | null = null;
  private finding: Promise<DatabaseHost> | null = null;

  constructor(readonly url: DatabaseUrl) {}

  /** A raw client on the writable primary; the caller ends it. */
  async connect(): Promise<pg.Client> {
    return (await this.connectFirstWritable()).client;
  }

  /** A host that was the writable primary a moment ago (one search at a time). */
  async find(): Promise<DatabaseHost> {
    if (this.known) return this.known;
    // One host, nothing to check (the parser allows `any` only then): no search, as before.
    if (this.url.targetSessionAttrs === 'any') return this.url.hosts[0] as DatabaseHost;
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

  /** The primary moved away from `host` (or it failed): search again next time. */
  forget(host: DatabaseHost): void {
    if (this.known === host) this.known = null;
  }

  /** pg settings for a connection to `host`. */
  configFor(host: DatabaseHost): pg.ClientConfig {
    return this.url.hosts.length > 1
      ? { connectionTimeoutMillis: MULTI_HOST_CONNECT_TIMEOUT_MS, ...host.config }
      : host.config;
  }

  /** Why `client`'s server will not do for the node, or null when it will. */
  async refusal(client: pg.Client): Promise<string | null> {
    const attrs = this.url.targetSessionAttrs;
    if (attrs === 'any') return null;
    const { rows } = await client.query<{ in_recovery: boolean; read_only: string }>(
      "select pg_is_in_recovery() as in_recovery, current_setting('transaction_read_only') as read_only",
    );
    const row = rows[0];
    if (attrs === 'primary' && row?.in_recovery !== false) return 'is a standby (in recovery)';
    if (attrs === 'read-write' && row?.read_only !== 'off') return 'is read-only';
    return null;
  }

  private async connectFirstWritable(): Promise<{ client: pg.Client; host: DatabaseHost }> {
    const known = this.known;
    const candidates = known ? [known, ...this.url.hosts.filter((h) => h !== known)] : this.url.hosts;
    const failures: string[] = [];
    for (const host of candidates) {
      const client = new pg.Client(this.configFor(host));
      // Until the caller takes it, an error of this connection is ours to swallow (we end it).
      const ignore = () => {};
      client.on('error', ignore);
      try {
        await client.connect();
        const refusal = await this.refusal(client);
        if (refusal === null) {
          this.known = host;
          client.off('error', ignore);
          return { client, host };
        }
        failures.push(`${host.name} ${refusal}`);
      } catch (error) {
        if (this.url.hosts.length === 1) throw error; // one host: its own error, as before
        failures.push(`${host.name}: ${(error as Error).message}`);
      }
      await client.end().catch(() => {});
    }
    this.known = null;
    throw new NoWritablePrimaryError(`no writable primary among the database hosts (${failures.join('; ')})`);
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
  /** Run on each new connection once it is known writable, before the pool hands it out. */
  prepare?: (client: pg.Client) => Promise<void>,
): typeof pg.Client {
  return class PrimaryClient extends pg.Client {
    private target: DatabaseHost | null = null;
    private primaryLost: Error | null = null;
    private poolRelease: ((error?: Error) => void) | null = null;

    constructor(config?: pg.ClientConfig) {
      // The pool's settings (types, timeouts…), then the URL's: ssl and the rest, the same for every host.
      super({ ...config, ...locator.configFor(locator.url.hosts[0] as DatabaseHost) });
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
      const target = await locator.find();
      this.target = target;
      Object.assign(this, { host: target.config.host, port: target.config.port });
      // Until the pool takes this client and listens, an error (a server shutting down between
      // the connect and the check) is ours: unheard, it would crash the process.
      let lost: Error | null = null;
      const hold = (error: Error) => {
        lost ??= error;
      };
      this.on('error', hold);
      try {
        await super.connect();
        const refusal = await locator.refusal(this);
        if (lost) throw lost;
        if (refusal !== null) {
          locator.forget(target);
          throw new NoWritablePrimaryError(`${target.name} ${refusal}`);
        }
        await prepare?.(this);
        if (lost) throw lost;
      } catch (error) {
        await this.end().catch(() => {}); // the pool forgets a client that failed to connect
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
