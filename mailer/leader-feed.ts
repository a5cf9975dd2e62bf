/**
 * The gateway's `leaderChanged` subscription over graphql-ws, kept alive for as long as the
 * mailer runs. A feed that drops (the gateway restarts, the network fails, the server ends the
 * subscription, a ping goes unanswered) is reconnected with backoff, forever. A subscription
 * only tells of changes from the moment it starts, so after every (re)connection the feed also
 * asks for the current leader: a change that happened while it was away is still reported (as
 * "catch-up"); the alert service drops what it has already alerted.
 */
import { type Client, createClient } from 'graphql-ws';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { CurrentLeaderQuery, LeaderChangedSubscription } from '../schema/generated/graphql.js';
import { Backoff, pause } from './backoff.js';
import {
  CURRENT_LEADER_QUERY,
  LEADER_CHANGED_SUBSCRIPTION,
  type LeaderChange,
  leaderChangeSchema,
} from './leader-change.js';

export interface LeaderFeedOptions {
  /** The GraphQL-over-WebSocket URL, ws(s)://…/graphql. */
  readonly url: string;
  readonly logger: Logger;
  readonly onChange: (change: LeaderChange) => void;
  readonly backoff?: Backoff;
  /** How often to ping the server; an unanswered ping (after half of this) drops the connection. */
  readonly keepAliveMs?: number;
}

export class LeaderFeed {
  private readonly stopping = new AbortController();
  private readonly backoff: Backoff;
  private client: Client | null = null;
  private running: Promise<void> | null = null;
  /** Whether any session got as far as the gateway's ack: until then the feed was never lost. */
  private everConnected = false;

  constructor(private readonly options: LeaderFeedOptions) {
    this.backoff = options.backoff ?? new Backoff(500, 30_000);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.client?.dispose();
    await this.running;
  }

  private async run(): Promise<void> {
    const { logger, url } = this.options;
    while (!this.stopping.signal.aborted) {
      const reason = await this.session();
      if (this.stopping.signal.aborted) return;
      const retryInMs = this.backoff.next();
      // Started before the gateway (npm start, compose): waiting for it is not a problem yet.
      if (this.everConnected) logger.warn({ url, reason, retryInMs }, 'leader feed lost; reconnecting');
      else logger.info({ url, reason, retryInMs }, 'gateway not reachable yet; retrying');
      await pause(retryInMs, this.stopping.signal);
    }
  }

  /** One connection with its subscription; resolves with why it ended. */
  private session(): Promise<string> {
    const { url, logger } = this.options;
    const keepAliveMs = this.options.keepAliveMs ?? 10_000;
    return new Promise((resolve) => {
      let pongDeadline: NodeJS.Timeout | undefined;
      // A refused or broken socket ends as a bare 1006 close; its error says what happened.
      let socketError: string | null = null;
      const client = createClient({
        url,
        webSocketImpl: WebSocket,
        // Reconnection is this class's loop, which also resubscribes after a completed feed.
        retryAttempts: 0,
        connectionAckWaitTimeout: 10_000,
        keepAlive: keepAliveMs,
        on: {
          connected: () => {
            this.everConnected = true;
            logger.info({ url }, 'leader feed connected');
            // After the subscribe message that is sent right after the ack: the answer then
            // comes once the subscription is set up, so no change falls between the two.
            setImmediate(() => void this.catchUp(client));
          },
          ping: (received) => {
            if (!received) pongDeadline = setTimeout(() => client.terminate(), keepAliveMs / 2);
          },
          pong: (received) => {
            if (received) clearTimeout(pongDeadline);
          },
          closed: () => clearTimeout(pongDeadline),
          error: (error) => {
            socketError = describeEnd(error);
          },
        },
      });
      this.client = client;
      let ended = false;
      const end = (reason: string) => {
        if (ended) return;
        ended = true;
        clearTimeout(pongDeadline);
        void client.dispose();
        resolve(reason);
      };
      client.subscribe<LeaderChangedSubscription>(
        { query: String(LEADER_CHANGED_SUBSCRIPTION) },
        {
          next: (result) => {
            if (result.errors?.length) {
              logger.warn({ url, errors: result.errors.map((e) => e.message) }, 'leader feed sent errors');
              return;
            }
            this.backoff.reset();
            this.deliver(result.data?.leaderChanged, 'subscription');
          },
          error: (error) => end(socketError ?? describeEnd(error)),
          complete: () => end('the server ended the subscription'),
        },
      );
    });
  }

  /** Reports the current leader, as a change the feed may have missed. */
  private async catchUp(client: Client): Promise<void> {
    const { url, logger } = this.options;
    try {
      const answers = client.iterate<CurrentLeaderQuery>({ query: String(CURRENT_LEADER_QUERY) });
      const result = await answers.next();
      await answers.return?.();
      const value = result.value as { data?: CurrentLeaderQuery; errors?: { message: string }[] } | undefined;
      if (!value?.data) throw new Error(value?.errors?.[0]?.message ?? 'no answer');
      this.backoff.reset();
      const leader = value.data.cluster.leader;
      if (leader) this.deliver({ term: leader.term, leader, at: new Date().toISOString() }, 'catch-up');
      else logger.info({ url }, 'no leader known yet');
    } catch (error) {
      if (!this.stopping.signal.aborted)
        logger.warn({ url, reason: describeEnd(error) }, 'could not ask the gateway for the current leader');
    }
  }

  private deliver(data: unknown, source: LeaderChange['source']): void {
    const parsed = leaderChangeSchema.safeParse({ ...(data as object), source });
    if (!parsed.success) {
      this.options.logger.warn(
        { url: this.options.url, data, problem: parsed.error.issues[0]?.message },
        'ignored a malformed leader change',
      );
      return;
    }
    this.options.onChange(parsed.data);
  }
}

/** A graphql-ws end (a CloseEvent, an Error, an ErrorEvent or GraphQL errors) in words. */
function describeEnd(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message).join('; ');
  const e = error as { code?: unknown; reason?: unknown; message?: unknown };
  if (e?.code === 1006 && !e.reason) return 'the connection was lost (1006)';
  if (typeof e?.code === 'number') return `closed with ${e.code}${e.reason ? ` ${e.reason}` : ''}`;
  if (typeof e?.message === 'string' && e.message) return e.message;
  return String(error);
}
