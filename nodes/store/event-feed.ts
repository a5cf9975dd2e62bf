/**
 * The live domain feed: events in position order, pushed by PostgreSQL's LISTEN/NOTIFY.
 *
 * Each subscriber keeps its own cursor and reads `position > cursor` from the log whenever a
 * notification (or the periodic safety tick) says there may be more. Because writers are
 * serialized under the fence lock (see event-log.ts), positions become visible in order, so
 * reading past the cursor never skips an event, and the cursor never moves back, so none is
 * delivered twice. A lost notification (a dropped LISTEN connection) only delays delivery until
 * the reconnect or the next tick; it never loses an event.
 *
 * The feed LISTENs only while someone waits on it (a subscription, a `nextChange`), and stops a
 * moment after the last one left: a notification costs every listening node's process and its
 * PostgreSQL backend a wake-up per commit, and most of the time nobody on a node waits (measured,
 * one client writing straight to the leader, `npm run bench:gateway -- --clients 1`, two runs of
 * each alternating: the nodes' CPU per write 808–868 µs → 672–682, PostgreSQL's 781–795 → 538–562,
 * writes per second 547–593 → 646–670). Whoever starts waiting while the feed does not listen is
 * woken once the LISTEN has taken effect, and reads again: what was committed before it is read
 * then.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Repeater } from '@repeaterjs/repeater';
import type pg from 'pg';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL, type EventStore } from './event-store.js';
import { PRIMARY_WAIT_MS, primaryLocator } from './primary-locator.js';
import { isPrimaryLost } from './primary-lost.js';
import type { StoredEvent } from './stored-event.js';

const BATCH = 500;
const SAFETY_TICK_MS = 5_000;
/**
 * After a read failed because the primary moved (a failover takes seconds; the read itself
 * already waited for a new primary up to PRIMARY_WAIT_MS).
 */
const READ_RETRY_MS = 100;
/** The first and the longest pause before connecting the LISTEN again (each attempt also waits for a primary). */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 500;
/**
 * How long the feed keeps listening once nobody waits: a subscriber between two reads, or a
 * leader handing over and looking again every 100 ms, would otherwise make it UNLISTEN and LISTEN
 * again at each turn.
 */
export const UNLISTEN_AFTER_MS = 1_000;

export class EventFeed {
  private client: pg.Client | null = null;
  private waiters = new Set<() => void>();
  private stopped = false;
  private readonly safetyTimer: NodeJS.Timeout;
  private reconnectDelay = RECONNECT_FIRST_MS;
  /** Open subscriptions and `nextChange` calls not yet resolved: while any, the feed listens. */
  private interested = 0;
  /** Whether LISTEN was sent on the current connection (and no UNLISTEN after it). */
  private listening = false;
  private unlistenTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly databaseUrl: string,
    private readonly store: EventStore,
    private readonly logger: Logger,
  ) {
    this.safetyTimer = setInterval(() => this.wake(), SAFETY_TICK_MS);
    this.safetyTimer.unref();
  }

  static async start(databaseUrl: string, store: EventStore, logger: Logger): Promise<EventFeed> {
    const feed = new EventFeed(databaseUrl, store, logger);
    await feed.connect();
    return feed;
  }

  /** Events after `afterPosition` (default: from now on), optionally of one stream. */
  subscribe(args: { stream?: string; afterPosition?: number } = {}): AsyncIterableIterator<StoredEvent> {
    return new Repeater<StoredEvent>(async (push, stop) => {
      const release = this.interest();
      let done = false;
      // One reaction on `stop` for the subscription's life (one per turn would pile up until it ends).
      let endWait = () => {};
      stop.then(() => {
        done = true;
        release();
        endWait();
      });
      let cursor = args.afterPosition ?? (await this.store.readLatestPosition());
      while (!done && !this.stopped) {
        const { signal, end } = this.nextSignal();
        endWait = end;
        let batch: StoredEvent[];
        try {
          batch = await this.store.readAll({
            afterPosition: cursor,
            limit: BATCH,
            ...(args.stream === undefined ? {} : { stream: args.stream }),
          });
        } catch (error) {
          // The primary moved: read again from the same cursor once the new one answers.
          if (!isPrimaryLost(error)) throw error;
          this.logger.warn({ err: (error as Error).message }, 'event feed cannot read the log; retrying');
          await Promise.race([signal, sleep(READ_RETRY_MS)]);
          end();
          continue;
        }
        for (const e of batch) {
          if (done) break;
          await push(e);
          cursor = e.position;
        }
        if (batch.length < BATCH) await signal;
        else end(); // more to read at once: this turn's wait is not needed
      }
      stop();
    });
  }

  /** Whether the feed listens now (see `interest`). */
  get isListening(): boolean {
    return this.listening;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.safetyTimer);
    if (this.unlistenTimer) clearTimeout(this.unlistenTimer);
    this.wake();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  /**
   * Resolves at the next sign that the log changed (a notification, a reconnect, the safety
   * tick), or after `limitMs`: for a reader that waits for one particular append.
   */
  nextChange(limitMs: number): Promise<void> {
    const release = this.interest();
    const { signal, end } = this.nextSignal();
    const timer = setTimeout(end, limitMs);
    return signal.then(() => {
      clearTimeout(timer);
      release();
    });
  }

  /**
   * Someone waits on the feed from now until the returned function is called: the feed listens
   * meanwhile (starting now if it does not), and UNLISTEN_AFTER_MS after the last one left it stops.
   */
  private interest(): () => void {
    this.interested++;
    if (this.unlistenTimer) {
      clearTimeout(this.unlistenTimer);
      this.unlistenTimer = null;
    }
    if (!this.listening && this.client) void this.listen(this.client).catch(() => {});
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.interested === 0) this.unlistenLater();
    };
  }

  /** UNLISTEN_AFTER_MS from now, unless someone waits again meanwhile (see `interest`). */
  private unlistenLater(): void {
    if (this.stopped || this.unlistenTimer) return;
    this.unlistenTimer = setTimeout(() => void this.unlisten(), UNLISTEN_AFTER_MS);
    this.unlistenTimer.unref();
  }

  /** LISTEN on `client`, then wake every waiter: what was committed before it took effect is read now. */
  private async listen(client: pg.Client): Promise<void> {
    this.listening = true;
    try {
      await client.query(`listen ${EVENTS_CHANNEL}`);
    } catch (error) {
      // The connection broke: its reconnection listens again if anyone still waits. Meanwhile the
      // waiters read again now rather than at the safety tick.
      if (this.client === client) this.listening = false;
      this.wake();
      throw error;
    }
    this.wake();
  }

  private async unlisten(): Promise<void> {
    this.unlistenTimer = null;
    const client = this.client;
    if (!client || !this.listening || this.interested > 0 || this.stopped) return;
    this.listening = false;
    // A failure leaves a broken connection, which is reconnected without LISTEN.
    await client.query(`unlisten ${EVENTS_CHANNEL}`).catch(() => {});
  }

  /** A wait that the next wake() ends, or `end` (the waiter leaves). */
  private nextSignal(): { signal: Promise<void>; end: () => void } {
    let end = () => {};
    const signal = new Promise<void>((resolve) => {
      end = () => {
        this.waiters.delete(end);
        resolve();
      };
      this.waiters.add(end);
    });
    return { signal, end };
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private async connect(): Promise<void> {
    // On the writable primary (found again after a failover, waited for while none is writable):
    // a standby's NOTIFY never comes.
    const client = await primaryLocator(this.databaseUrl).connect(PRIMARY_WAIT_MS);
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'event feed connection lost; reconnecting');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    // Raw `pg`, not kysely on the pool: LISTEN belongs to one connection held for the feed's
    // life, and only a pg.Client delivers its notifications.
    const listening = this.interested > 0;
    if (listening) {
      await client.query(`listen ${EVENTS_CHANNEL}`).catch(async (error) => {
        await client.end().catch(() => {});
        throw error;
      });
    }
    this.client = client;
    this.listening = listening;
    // The last waiter may have left while the LISTEN was on its way: stop again after the delay.
    if (listening && this.interested === 0) this.unlistenLater();
    this.reconnectDelay = RECONNECT_FIRST_MS;
    // Anything committed while we were not listening is picked up now.
    this.wake();
  }

  private reconnect(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    const delay = this.reconnectDelay;
    // Short: until it is back only the safety tick delivers, and an attempt during a failover
    // already waits for the new primary.
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    setTimeout(() => {
      if (this.stopped) return;
      this.connect().catch((error) => {
        this.logger.warn({ err: error, retryInMs: this.reconnectDelay }, 'event feed cannot reconnect yet');
        this.client = client; // so the next reconnect() call proceeds
        this.reconnect(client);
      });
    }, delay).unref();
  }
}
