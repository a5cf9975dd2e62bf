/**
 * Publishes listings to the durable `listings` queue so that none is lost on the way: each message
 * is persistent JSON with its own messageId, sent on a confirm channel as mandatory, and counts as
 * published only when the broker confirms it. A nack, a return (no such queue), a closed channel
 * or a lost connection leaves the message for the next try, after a backoff, on a fresh connection
 * when needed; a retry keeps the messageId, so the consumer can tell a repeat. What is still
 * unconfirmed after the last try is a PublishError, never a silent drop. With tracing on, each
 * message carries the publish's W3C `traceparent` in its AMQP headers (traced-publish.ts).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib';
import type { ListingMessage } from '../schema/listing-message.js';
import { LISTINGS_QUEUE, listingsQueueDeclaration, type QueueType } from '../schema/listings-queue.js';
import { backoffDelay, type RetryPolicy } from './retry.js';
import { publishSpan } from './traced-publish.js';

export { LISTINGS_QUEUE };

export interface PublishOptions {
  /** amqp[s]://user:pass@host:port[/vhost] */
  readonly url: string;
  readonly queue?: string;
  /** How the queue is declared when it is missing (QUEUE_TYPE; classic by default), as the gateway does. */
  readonly queueType?: QueueType;
  readonly retry?: RetryPolicy;
  /** How long a try waits for the broker's confirms before it gives the connection up. */
  readonly confirmTimeoutMs?: number;
  onRetry?(info: { unconfirmed: number; failedAttempt: number; delayMs: number; error: unknown }): void;
}

export interface PublishReport {
  /** One per listing, in the listings' order. */
  readonly messageIds: string[];
  /** Tries after the first. */
  readonly retries: number;
}

export class PublishError extends Error {
  constructor(
    message: string,
    readonly unconfirmed: number,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

interface Outgoing {
  readonly messageId: string;
  readonly body: Buffer;
  /** The publish's trace context (`traceparent`) when tracing is on (scraper/traced-publish.ts). */
  readonly headers: Readonly<Record<string, string>> | undefined;
}

interface Link {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
  /** messageIds the broker returned as unroutable (it returns before it confirms). */
  readonly returned: Set<string>;
  closed: boolean;
}

/**
 * The queue as the contract has it: durable, of QUEUE_TYPE with the gateway's arguments. Declared
 * only when missing, so a consumer may own its arguments.
 */
async function ensureQueue(connection: ChannelModel, queue: string, type: QueueType): Promise<void> {
  const probe = await connection.createChannel();
  probe.on('error', () => {});
  try {
    await probe.checkQueue(queue);
    await probe.close();
  } catch (error) {
    // 404 NOT_FOUND closes the probing channel; anything else is a real failure.
    if ((error as { code?: number }).code !== 404) throw error;
    const declaring = await connection.createChannel();
    await declaring.assertQueue(queue, listingsQueueDeclaration(type));
    await declaring.close();
  }
}

async function openLink(url: string, queue: string, type: QueueType): Promise<Link> {
  const connection = await connect(url, {
    timeout: 10_000,
    clientProperties: { connection_name: 'ensemble-scraper' },
  });
  try {
    connection.on('error', () => {}); // reported through the confirms that fail
    await ensureQueue(connection, queue, type);
    const channel = await connection.createConfirmChannel();
    const link: Link = { connection, channel, returned: new Set(), closed: false };
    channel.on('error', () => {});
    channel.on('close', () => {
      link.closed = true;
    });
    connection.on('close', () => {
      link.closed = true;
    });
    channel.on('return', (message) => link.returned.add(String(message.properties.messageId)));
    return link;
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
}

/** Sends the messages and settles each with the broker's verdict: undefined when confirmed, else why not. */
async function sendAll(link: Link, queue: string, messages: readonly Outgoing[]): Promise<unknown[]> {
  const verdicts: Promise<unknown>[] = [];
  for (const message of messages) {
    let writable = true;
    verdicts.push(
      new Promise<unknown>((settle) => {
        try {
          writable = link.channel.sendToQueue(
            queue,
            message.body,
            {
              persistent: true,
              mandatory: true,
              contentType: 'application/json',
              contentEncoding: 'utf-8',
              messageId: message.messageId,
              timestamp: Math.floor(Date.now() / 1000),
              type: 'listing',
              appId: 'ensemble-scraper',
              ...(message.headers === undefined ? {} : { headers: message.headers }),
            },
            (error) => {
              if (error) settle(error instanceof Error ? error : new Error(String(error)));
              else if (link.returned.has(message.messageId))
                settle(new Error(`queue ${queue} does not exist`));
              else settle(undefined);
            },
          );
        } catch (error) {
          settle(error); // the channel is closed already
        }
      }),
    );
    // The socket's buffer is full: wait until it drains (or the channel goes).
    if (!writable && !link.closed)
      await Promise.race([once(link.channel, 'drain'), once(link.channel, 'close')]);
  }
  return Promise.all(verdicts);
}

export function publishListings(
  listings: readonly ListingMessage[],
  options: PublishOptions,
): Promise<PublishReport> {
  const queue = options.queue ?? LISTINGS_QUEUE;
  return publishSpan(queue, listings.length, (headers) => publishAll(listings, queue, headers, options));
}

async function publishAll(
  listings: readonly ListingMessage[],
  queue: string,
  headers: Readonly<Record<string, string>> | undefined,
  options: PublishOptions,
): Promise<PublishReport> {
  const policy = options.retry ?? { attempts: 6, baseDelayMs: 250, maxDelayMs: 5000 };
  const outgoing: Outgoing[] = listings.map((listing) => ({
    messageId: randomUUID(),
    body: Buffer.from(JSON.stringify(listing), 'utf8'),
    headers,
  }));
  let pending = outgoing;
  let link: Link | undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      let lastError: unknown;
      try {
        if (link === undefined || link.closed) {
          await link?.connection.close().catch(() => {});
          link = await openLink(options.url, queue, options.queueType ?? 'classic');
        }
        const current = link;
        // A broker that stops answering: give the connection up, which fails what is pending.
        const watchdog = setTimeout(
          () => void current.connection.close().catch(() => {}),
          options.confirmTimeoutMs ?? 30_000,
        );
        const verdicts = await sendAll(current, queue, pending).finally(() => clearTimeout(watchdog));
        lastError = verdicts.find((v) => v !== undefined);
        pending = pending.filter((_, i) => verdicts[i] !== undefined);
      } catch (error) {
        lastError = error; // could not connect or declare: everything pending stays pending
      }
      if (pending.length === 0) return { messageIds: outgoing.map((m) => m.messageId), retries: attempt - 1 };
      if (attempt >= policy.attempts) {
        throw new PublishError(
          `${pending.length} of ${outgoing.length} listings not confirmed by RabbitMQ after ${attempt} tries: ${(lastError as Error)?.message ?? lastError}`,
          pending.length,
          lastError,
        );
      }
      const delayMs = backoffDelay(attempt, policy);
      options.onRetry?.({ unconfirmed: pending.length, failedAttempt: attempt, delayMs, error: lastError });
      await sleep(delayMs);
    }
  } finally {
    await link?.connection.close().catch(() => {});
  }
}
