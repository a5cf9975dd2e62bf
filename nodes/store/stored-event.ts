import type { EventMetadata } from './entities.js';

/** An event as the log holds it: with its global position, stream version, term and writer. */
export interface StoredEvent {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: EventMetadata;
  readonly term: number;
  readonly nodeId: string;
  readonly createdAt: Date;
}

export function toStoredEvent(row: {
  position: number | bigint | string;
  stream: string;
  version: number;
  type: string;
  data: unknown;
  metadata: unknown;
  term: number | bigint | string;
  nodeId?: string;
  node_id?: string;
  createdAt?: Date | string;
  created_at?: Date | string;
}): StoredEvent {
  return {
    position: Number(row.position),
    stream: row.stream,
    version: Number(row.version),
    type: row.type,
    data: (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Record<string, unknown>,
    metadata: (typeof row.metadata === 'string'
      ? JSON.parse(row.metadata)
      : (row.metadata ?? {})) as EventMetadata,
    term: Number(row.term),
    nodeId: (row.nodeId ?? row.node_id) as string,
    createdAt: new Date((row.createdAt ?? row.created_at) as Date | string),
  };
}
