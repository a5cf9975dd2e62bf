/**
 * Queries, answered by any node from the projections (and, for the cluster view, from the
 * Node table — node-registry.ts — merged with this node's live election state).
 */

import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ApiError } from '../../api/errors.js';
import type {
  ClusterDto,
  EventDto,
  ListingDto,
  NodeInfoDto,
  Page,
  ReadModels,
  StoredFileDto,
  TaskDto,
} from '../../api/ports.js';
import { contractRole } from '../../common/node-health.js';
import { isUuid } from '../../common/uuid.js';
import type { TaskStatus } from '../../schema/events.js';
import type { ElectionStatus } from '../election/raft-election.js';
import { ListingRow, StoredFileRow, TaskRow } from '../store/entities.js';
import type { EventStore } from '../store/event-store.js';
import type { StoredEvent } from '../store/stored-event.js';
import { decodeCursor, encodeCursor } from './cursor.js';

export interface SelfView {
  readonly id: string;
  readonly url: string;
  status(): ElectionStatus;
}

export class NodeReadModels implements ReadModels {
  constructor(
    private readonly orm: MikroORM,
    private readonly store: EventStore,
    private readonly self: SelfView,
  ) {}

  private em(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  async cluster(): Promise<ClusterDto> {
    const rows = await this.store.nodes.list();
    const s = this.self.status();
    const selfInfo: NodeInfoDto = {
      id: this.self.id,
      url: this.self.url,
      role: contractRole(s.role),
      term: s.term,
      lastSeenAt: new Date(),
    };
    const nodes: NodeInfoDto[] = rows.map((r) => {
      if (r.id === this.self.id) return selfInfo;
      // Raft allows one leader per term: a row still saying LEADER for another node than the one
      // this node follows is a deposed (or dead) leader's last report.
      const role =
        r.id === s.leader ? 'LEADER' : r.role === 'LEADER' && s.leader !== null ? 'FOLLOWER' : r.role;
      return {
        id: r.id,
        url: r.url,
        role: role as NodeInfoDto['role'],
        term: r.id === s.leader ? Math.max(s.term, r.term) : r.term,
        lastSeenAt: r.lastSeenAt,
      };
    });
    if (!nodes.some((n) => n.id === this.self.id)) nodes.push(selfInfo);
    return {
      term: s.term,
      leader: nodes.find((n) => n.id === s.leader) ?? null,
      nodes,
      self: selfInfo,
    };
  }

  async tasks(args: { status?: TaskStatus; first: number; after?: string }): Promise<Page<TaskDto>> {
    const where: Record<string, unknown> = args.status ? { status: args.status } : {};
    if (args.after) {
      const [at, id] = decodeCursor(args.after, ['string', 'string']) as [string, string];
      const createdAt = new Date(at);
      if (Number.isNaN(createdAt.getTime())) throw ApiError.badUserInput('"after" is not a valid cursor');
      where.$or = [{ createdAt: { $gt: createdAt } }, { createdAt, id: { $gt: id } }];
    }
    const rows = await this.em().find(TaskRow, where, {
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      limit: args.first + 1,
    });
    return page(rows.map(toTask), args.first, (t) => [t.createdAt.toISOString(), t.id]);
  }

  async task(id: string): Promise<TaskDto | null> {
    if (!isUuid(id)) return null;
    const row = await this.em().findOne(TaskRow, { id });
    return row ? toTask(row) : null;
  }

  async listings(args: {
    first: number;
    after?: string;
    minPrice?: number;
    maxPrice?: number;
  }): Promise<Page<ListingDto>> {
    const price: Record<string, number> = {};
    if (args.minPrice !== undefined) price.$gte = args.minPrice;
    if (args.maxPrice !== undefined) price.$lte = args.maxPrice;
    const where: Record<string, unknown> = Object.keys(price).length ? { priceEur: price } : {};
    if (args.after) where.url = { $gt: decodeCursor(args.after, ['string'])[0] as string };
    const rows = await this.em().find(ListingRow, where, { orderBy: { url: 'asc' }, limit: args.first + 1 });
    return page(rows.map(toListing), args.first, (l) => [l.url]);
  }

  async files(): Promise<StoredFileDto[]> {
    const rows = await this.em().find(StoredFileRow, {}, { orderBy: { createdAt: 'desc' } });
    return rows.map(toFile);
  }

  headPosition(): Promise<number> {
    return this.store.readLatestPosition();
  }

  async events(args: { afterPosition?: number; first: number; stream?: string }): Promise<EventDto[]> {
    const events = await this.store.readAll({
      limit: args.first,
      ...(args.afterPosition === undefined ? {} : { afterPosition: args.afterPosition }),
      ...(args.stream === undefined ? {} : { stream: args.stream }),
    });
    return events.map(toEventDto);
  }
}

function page<T>(rows: T[], first: number, cursorOf: (t: T) => (string | number)[]): Page<T> {
  const items = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return { items, hasNextPage: rows.length > first };
}

export function toTask(r: {
  id: string;
  title: string;
  description?: string | null;
  status: string;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}): TaskDto {
  return {
    id: r.id,
    title: r.title,
    description: r.description ?? null,
    status: r.status as TaskStatus,
    createdBy: r.createdBy,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export function toListing(r: {
  id: string;
  title: string;
  url: string;
  price: number | string;
  currency: string;
  priceEur: number | string;
  scrapedAt: Date;
  version: number;
}): ListingDto {
  return {
    id: r.id,
    title: r.title,
    url: r.url,
    price: Number(r.price),
    currency: r.currency,
    priceEur: Number(r.priceEur),
    scrapedAt: r.scrapedAt,
    version: r.version,
  };
}

export function toFile(r: {
  id: string;
  name: string;
  size: number;
  sha256: string;
  importedListings: number;
  createdAt: Date;
}): StoredFileDto {
  return {
    id: r.id,
    name: r.name,
    size: r.size,
    sha256: r.sha256,
    importedListings: r.importedListings,
    createdAt: r.createdAt,
  };
}

export function toEventDto(e: StoredEvent): EventDto {
  return {
    position: e.position,
    stream: e.stream,
    version: e.version,
    type: e.type,
    data: e.data,
    term: e.term,
    nodeId: e.nodeId,
    createdAt: e.createdAt,
  };
}
