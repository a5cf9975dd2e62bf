/**
 * The domain events: what the cluster's log (the `event` table) may contain. One definition,
 * shared by the deciders that produce events, the projections that consume them, the event
 * store that validates them and the GraphQL feed that publishes them.
 */
import { z } from 'zod';

export const TASK_STATUSES = ['TODO', 'IN_PROGRESS', 'DONE'] as const;
export const taskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof taskStatus>;

const isoDate = z.iso.datetime({ offset: true });

export const eventSchemas = {
  /** A node became leader and claimed the write fence for its term. Stream: `cluster`. */
  LeaderElected: z.strictObject({ nodeId: z.string(), term: z.number().int().min(1), url: z.string() }),

  /** Stream: `task-<id>`. */
  TaskCreated: z.strictObject({
    id: z.uuid(),
    title: z.string(),
    description: z.string().nullable(),
    status: taskStatus,
    createdBy: z.string(),
  }),
  TaskUpdated: z.strictObject({
    id: z.uuid(),
    title: z.string().optional(),
    description: z.string().nullable().optional(),
    status: taskStatus.optional(),
  }),
  TaskDeleted: z.strictObject({ id: z.uuid() }),

  /** Stream: `listing-<sha256(url) first 32 hex>`; a listing's identity is its url. */
  ListingAdded: z.strictObject({
    url: z.string(),
    title: z.string(),
    price: z.number(),
    currency: z.string(),
    priceEur: z.number(),
    scrapedAt: isoDate,
  }),
  /** Only the fields that changed (scrapedAt alone is not a change). */
  ListingChanged: z.strictObject({
    url: z.string(),
    title: z.string().optional(),
    price: z.number().optional(),
    currency: z.string().optional(),
    priceEur: z.number().optional(),
    scrapedAt: isoDate,
  }),

  /** Stream: `file-<sha256>`. The bytes live in the content-addressed `blob` table. */
  FileStored: z.strictObject({
    id: z.uuid(),
    name: z.string(),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    importedListings: z.number().int().min(0),
  }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;

/** An event as a decider emits it, before the store gives it a position and version. */
export type DomainEvent = { [T in EventType]: { readonly type: T; readonly data: EventData<T> } }[EventType];

/** Stream names: `<type>-<entity id>`, one stream per entity (the cluster's own is `cluster`). */
export const streams = {
  cluster: 'cluster',
  task: (id: string) => `task-${id}`,
  listing: (urlHash: string) => `listing-${urlHash}`,
  file: (sha256: string) => `file-${sha256}`,
} as const;

/**
 * The entity id in a stream's name (`listing-<id>` → `<id>`): the inverse of `streams`. The
 * projection's SQL reads it with `stream_entity_id` (nodes/store/projection/project-events.sql.ts).
 */
export function entityIdOfStream(stream: string): string {
  const dash = stream.indexOf('-');
  if (dash < 1 || dash === stream.length - 1) {
    throw new Error(`stream ${JSON.stringify(stream)} is not named <type>-<entity id>`);
  }
  return stream.slice(dash + 1);
}
