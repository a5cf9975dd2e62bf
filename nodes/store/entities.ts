/**
 * The tables, as MikroORM entities. Foreign keys and the append-only guard are declared in the
 * migrations (SQL), where PostgreSQL enforces them; entities here carry plain columns so the
 * hot path (appends, projections) stays free of identity-map bookkeeping.
 */
import { defineEntity, p } from '@mikro-orm/core';

/** The Node table: each node's advertised URL and its last self-reported role and term. */
export const NodeRow = defineEntity({
  name: 'NodeRow',
  tableName: 'node',
  properties: {
    id: p.string().primary(),
    url: p.string(),
    role: p.string(),
    term: p.bigint('number'),
    lastSeenAt: p.datetime().fieldName('last_seen_at'),
  },
});

/** The write fence: the one term and node currently allowed to append. A single row. */
export const LeadershipRow = defineEntity({
  name: 'LeadershipRow',
  tableName: 'leadership',
  properties: {
    singleton: p.boolean().primary(),
    term: p.bigint('number'),
    nodeId: p.string().fieldName('node_id'),
    claimedAt: p.datetime().fieldName('claimed_at'),
  },
});

/** The cluster's log. Rows are only ever inserted (a trigger refuses UPDATE and DELETE). */
export const EventRow = defineEntity({
  name: 'EventRow',
  tableName: 'event',
  properties: {
    position: p.bigint('number').primary().autoincrement(),
    stream: p.string(),
    version: p.integer(),
    type: p.string(),
    data: p.json<Record<string, unknown>>(),
    metadata: p.json<EventMetadata>(),
    term: p.bigint('number'),
    nodeId: p.string().fieldName('node_id'),
    createdAt: p.datetime().fieldName('created_at'),
  },
});

export interface EventMetadata {
  /** The command's idempotency key (one per append, on every event of it). */
  readonly idempotencyKey?: string;
  /** What caused the command: a GraphQL request, a queue message, an FTP poll. */
  readonly causation?: string;
}

export const TaskRow = defineEntity({
  name: 'TaskRow',
  tableName: 'task',
  properties: {
    id: p.uuid().primary(),
    title: p.text(),
    description: p.text().nullable(),
    status: p.string(),
    createdBy: p.string().fieldName('created_by'),
    version: p.integer(),
    createdAt: p.datetime().fieldName('created_at'),
    updatedAt: p.datetime().fieldName('updated_at'),
  },
});

export const ListingRow = defineEntity({
  name: 'ListingRow',
  tableName: 'listing',
  properties: {
    id: p.string().primary(),
    url: p.text().unique(),
    title: p.text(),
    price: p.double(),
    currency: p.string(),
    priceEur: p.double().fieldName('price_eur'),
    scrapedAt: p.datetime().fieldName('scraped_at'),
    version: p.integer(),
  },
});

export const StoredFileRow = defineEntity({
  name: 'StoredFileRow',
  tableName: 'stored_file',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    size: p.integer(),
    sha256: p.string().unique(),
    importedListings: p.integer().fieldName('imported_listings'),
    createdAt: p.datetime().fieldName('created_at'),
  },
});

/** File contents, addressed by their sha256: immutable, so events can refer to them. */
export const BlobRow = defineEntity({
  name: 'BlobRow',
  tableName: 'blob',
  properties: {
    sha256: p.string().primary(),
    content: p.blob(),
  },
});

export const ENTITIES = [NodeRow, LeadershipRow, EventRow, TaskRow, ListingRow, StoredFileRow, BlobRow];
