/**
 * Consumes the `listings` queue: each message is validated with the schema the scraper publishes
 * with, then upserted on the leader with the AMQP messageId as the idempotency key, and acked
 * only once the leader has stored it. So a message redelivered (the gateway died before its ack,
 * RabbitMQ restarted) changes nothing the second time, and a message is never lost: while no
 * leader is known it stays unacked and is tried again. A message that can never succeed (not
 * JSON, not a listing, refused by the leader as bad input) is moved to `listings.dead` with the
 * reason in its `x-ensemble-reason` header — never retried forever. amqplib's own recovery
 * reconnects with backoff when RabbitMQ goes away.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import amqp, {
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from 'amqplib';
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import { type ListingInputDto, MAX_LISTINGS_PER_REQUEST } from '../../api/ports.js';
import { listingMessage } from '../../schema/listing-message.js';
import {
  DEAD_LETTER_QUEUE,
  deadLetterQueueDeclaration,
  LISTINGS_QUEUE,
  listingsQueueDeclaration,
  type QueueType,
} from '../../schema/listings-queue.js';
import type { GatewayMetrics } from '../metrics.js';
import { processSpan } from './traced-messages.js';

export { DEAD_LETTER_QUEUE, LISTINGS_QUEUE };
export const REASON_HEADER = 'x-ensemble-reason';
const RETRY_MS = [200, 500, 1_000, 2_000, 5_000] as const;
const LAG_INTERVAL_MS = 2_000;

export interface ListingWriter {
  upsertListing(input: ListingInputDto, idempotencyKey?: string): Promise<unknown>;
  /** Many at once, each with its key; resolves once all are stored. */
  storeListings(inputs: readonly ListingInputDto[], idempotencyKeys: readonly string[]): Promise<unknown>;
}

/** A valid message waiting in the current batch. */
interface Pending {
  readonly channel: ConfirmChannel;
  readonly message: ConsumeMessage;
  readonly listing: ListingInputDto;
  readonly key: string;
}

/**
 * How many batch requests may be at the leader at once. A batch is whatever arrived while the
 * requests out were away (adaptive group commit): batches grow with the load, up to what one
 * upsertListings takes. A fixed time window instead locks into small batches — acks come back in
 * the window's groups and RabbitMQ refills in the same groups — which cost the leader per
 * request, not per listing. Two, so that the leader decides one batch while PostgreSQL stores
 * the other; the default prefetch (QUEUE_PREFETCH, 1000) keeps both full.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

/** Why a message can never be stored, or null if it may be (a transient failure). */
export class PoisonMessage extends Error {}

export class ListingsConsumer {
  private connection: RecoveringChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private lagTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private batch: Pending[] = [];
  private batchesInFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly options: {
      readonly url: string;
      readonly prefetch: number;
      /** How `listings` is declared (schema/listings-queue.ts); the scraper declares it the same. */
      readonly queueType: QueueType;
      readonly writer: ListingWriter;
      readonly metrics: GatewayMetrics;
      readonly logger: Logger;
    },
  ) {}

  /** Connects in the background (RabbitMQ may start after the gateway); resolves at once. */
  async start(): Promise<void> {
    const { logger } = this.options;
    const connection = await amqp.connect(this.options.url, {
      recovery: {
        initialDelay: 250,
        maxDelay: 5_000,
        waitForConnect: false,
        setup: async (model: ChannelModel) => {
          const channel = await model.createConfirmChannel();
          await channel.assertQueue(LISTINGS_QUEUE, listingsQueueDeclaration(this.options.queueType));
          await channel.assertQueue(DEAD_LETTER_QUEUE, deadLetterQueueDeclaration(this.options.queueType));
          await channel.prefetch(this.options.prefetch);
          channel.on('error', (err: Error) => logger.warn({ err: err.message }, 'queue channel error'));
          this.channel = channel;
          await channel.consume(
            LISTINGS_QUEUE,
            (message: ConsumeMessage | null) => this.track(channel, message),
            { noAck: false },
          );
          logger.info(
            { queue: LISTINGS_QUEUE, type: this.options.queueType, prefetch: this.options.prefetch },
            'consuming the listings queue',
          );
        },
      },
    });
    connection.on('disconnect', (err: Error) => {
      this.channel = null;
      if (!this.stopping) logger.warn({ err: err?.message }, 'RabbitMQ connection lost; reconnecting');
    });
    connection.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      if (info.attempt === 1 || info.attempt % 10 === 0)
        logger.warn(
          { attempt: info.attempt, err: info.error?.message },
          'cannot reach RabbitMQ yet; retrying',
        );
    });
    connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'RabbitMQ error'));
    this.connection = connection;
    this.lagTimer = setInterval(() => void this.measureLag(), LAG_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.lagTimer) clearInterval(this.lagTimer);
    // Unfinished messages are simply not acked: RabbitMQ hands them to the next consumer.
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(2_000)]);
    // The channel first: its Close follows its acks on the same stream, and RabbitMQ answers once
    // it has taken them. amqplib writes the connection's Close on a stream of its own, which its
    // round robin may send before acks still buffered — RabbitMQ then requeues those messages.
    await this.channel?.close().catch(() => {});
    await this.connection?.close().catch(() => {});
  }

  private track(channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (!message) {
      this.options.logger.warn('the broker cancelled the listings consumer');
      return;
    }
    const handling = this.handle(channel, message).catch((err: Error) =>
      this.options.logger.warn(
        { err: err.message, messageId: message.properties.messageId },
        'message left unacked',
      ),
    );
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    let listing: ListingInputDto;
    try {
      listing = parseListingMessage(message.content);
    } catch (error) {
      if (!(error instanceof PoisonMessage)) throw error;
      await this.deadLetter(channel, message, error.message);
      return;
    }
    this.batch.push({ channel, message, listing, key: idempotencyKeyOf(message) });
    this.scheduleFlush();
  }

  /**
   * Send the waiting messages once the messages of this socket read have all been handled
   * (amqplib delivers a read's messages in one go), unless a batch is already out: then they go
   * when it comes back.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesInFlight >= MAX_BATCHES_IN_FLIGHT) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /**
   * Store the batch in one request (at most what one upsertListings takes; the rest goes next);
   * if the leader refuses it as bad input, each message on its own (and its own retries).
   */
  private async flush(): Promise<void> {
    const batch = this.batch.splice(0, MAX_LISTINGS_PER_REQUEST);
    if (batch.length === 0) return;
    this.batchesInFlight++;
    const messages = batch.map((p) => p.message);
    const flushing = processSpan(messages, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.options.writer.storeListings(
            batch.map((p) => p.listing),
            batch.map((p) => p.key),
          );
          for (const p of batch) this.acknowledge(p);
          return;
        } catch (error) {
          // One bad listing refuses the whole request: store them one by one to find it.
          if (error instanceof ApiError && error.code === 'BAD_USER_INPUT') {
            await Promise.all(batch.map((p) => this.storeOne(p)));
            return;
          }
          if (!this.shouldRetry(error, attempt, batch.length) || batch[0]?.channel !== this.channel) return;
          await delay(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
        }
      }
    });
    this.inFlight.add(flushing);
    await flushing.finally(() => {
      this.inFlight.delete(flushing);
      this.batchesInFlight--;
      if (this.batch.length > 0 && !this.stopping) this.scheduleFlush();
    });
  }

  private acknowledge({ channel, message }: Pending): void {
    try {
      channel.ack(message);
      this.options.metrics.queueMessages.inc({
        outcome: message.fields.redelivered ? 'stored_redelivered' : 'stored',
      });
    } catch {
      // The channel closed meanwhile: RabbitMQ redelivers, and the key makes that a no-op.
    }
  }

  private async storeOne(pending: Pending): Promise<void> {
    const { channel, message, listing, key } = pending;
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return;
      try {
        await this.options.writer.upsertListing(listing, key);
        this.acknowledge(pending);
        return;
      } catch (error) {
        if (error instanceof ApiError && error.code === 'BAD_USER_INPUT') {
          await this.deadLetter(channel, message, `refused by the leader: ${error.message}`);
          return;
        }
        if (!this.shouldRetry(error, attempt, 1) || this.channel !== channel) return;
        await delay(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
      }
    }
  }

  /**
   * No leader yet, a node unreachable, a conflict that outlasted the node's own retries: keep the
   * messages (unacked) and try again, unless stopping (RabbitMQ then redelivers them).
   */
  private shouldRetry(error: unknown, attempt: number, messages: number): boolean {
    if (attempt === 0 || attempt % 10 === 0) {
      this.options.logger.warn(
        { err: (error as Error).message, messages, attempt },
        'cannot store a listing yet; will retry',
      );
    }
    this.options.metrics.queueMessages.inc({ outcome: 'retried' }, messages);
    return !this.stopping;
  }

  /**
   * Publish to listings.dead (confirmed), then ack the original: never lost, never looping; at
   * least once (a crash between the two moves it again on redelivery, same messageId).
   */
  private async deadLetter(channel: ConfirmChannel, message: ConsumeMessage, reason: string): Promise<void> {
    const { properties } = message;
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(
        DEAD_LETTER_QUEUE,
        message.content,
        {
          persistent: true,
          ...(properties.messageId ? { messageId: properties.messageId } : {}),
          ...(properties.contentType ? { contentType: properties.contentType } : {}),
          headers: {
            ...(properties.headers ?? {}),
            [REASON_HEADER]: reason,
            'x-original-queue': LISTINGS_QUEUE,
          },
        },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
    channel.ack(message);
    this.options.metrics.queueMessages.inc({ outcome: 'dead_lettered' });
    this.options.logger.warn({ messageId: properties.messageId, reason }, 'message moved to listings.dead');
  }

  private async measureLag(): Promise<void> {
    try {
      const reply = await this.channel?.checkQueue(LISTINGS_QUEUE);
      if (reply) this.options.metrics.queueLag.set(reply.messageCount);
    } catch {
      // The channel is reconnecting; the next tick measures again.
    }
  }
}

/** The message as a listing, or a PoisonMessage saying why it can never be one. */
export function parseListingMessage(content: Buffer): ListingInputDto {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new PoisonMessage(`not JSON: ${(error as Error).message}`);
  }
  const parsed = listingMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    throw new PoisonMessage(`not a listing: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const l = parsed.data;
  return {
    title: l.title,
    url: l.url,
    price: l.price,
    currency: l.currency,
    priceEur: l.priceEur,
    scrapedAt: new Date(l.scrapedAt),
  };
}

/** The AMQP messageId makes redeliveries idempotent; without one, the content does. */
export function idempotencyKeyOf(message: Pick<ConsumeMessage, 'content' | 'properties'>): string {
  const id = message.properties.messageId;
  if (typeof id === 'string' && id !== '' && id.length <= 150) return `amqp:${id}`;
  const basis = typeof id === 'string' && id !== '' ? id : message.content;
  return `amqp-sha256:${createHash('sha256').update(basis).digest('hex')}`;
}
