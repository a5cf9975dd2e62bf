/**
 * How the `listings` queue is declared, shared by the scraper that publishes to it and the
 * gateway that consumes it: RabbitMQ refuses a second declaration with other arguments
 * (PRECONDITION_FAILED), so both build theirs here from the same QUEUE_TYPE.
 *
 * `classic` (the default) suits a single broker. `quorum` is the replicated queue type RabbitMQ
 * recommends on a cluster (the RabbitMQ cluster operator's): a message survives the loss of a
 * broker, and one delivered `DELIVERY_LIMIT` times without an ack (a consumer that keeps dying
 * on it) is dead-lettered to `listings.dead` instead of going round for ever.
 */
import { z } from 'zod';

export const LISTINGS_QUEUE = 'listings';
export const DEAD_LETTER_QUEUE = 'listings.dead';
export const QUEUE_TYPES = ['classic', 'quorum'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

/** Deliveries of one message before a quorum queue moves it to listings.dead. */
export const DELIVERY_LIMIT = 20;

/** QUEUE_TYPE in a config schema. */
export const queueType = z.enum(QUEUE_TYPES, { message: 'must be classic or quorum' }).default('classic');

export interface QueueDeclaration {
  readonly durable: true;
  readonly arguments?: Record<string, string | number>;
}

/** The arguments `listings` is declared with. */
export function listingsQueueDeclaration(type: QueueType): QueueDeclaration {
  if (type === 'classic') return { durable: true };
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      // The default exchange routes by queue name: dead letters land in listings.dead.
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': DEAD_LETTER_QUEUE,
    },
  };
}

/** `listings.dead` is of the same type, so that it is replicated as well. */
export function deadLetterQueueDeclaration(type: QueueType): QueueDeclaration {
  return type === 'classic' ? { durable: true } : { durable: true, arguments: { 'x-queue-type': 'quorum' } };
}
