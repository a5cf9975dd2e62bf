/**
 * The gateway's reads: `cluster` is answered from what the gateway itself knows (the announced
 * leader, the health of every node; `self` is null here); everything else is read on a healthy
 * node. Used when a request cannot take the proxy's fast path (see http/graphql-proxy.ts).
 */
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
import type { TaskStatus } from '../../schema/events.js';
import { graphql } from '../../schema/generated/index.js';
import type { LeaderRegistry } from '../routing/leader-registry.js';
import type { NodeDirectory } from '../routing/node-directory.js';
import { type Router, runRemote } from './remote-graphql.js';

// Every field of the DTOs, as fragments the gateway's operations (here, gateway-commands.ts and
// feeds/gateway-feeds.ts) spread: the generated document of an operation carries the fragments it uses.
graphql(`fragment TaskFields on Task { id title description status createdBy version createdAt updatedAt }`);
graphql(`fragment ListingFields on Listing { id title url price currency priceEur scrapedAt version }`);
graphql(`fragment StoredFileFields on StoredFile { id name size sha256 importedListings createdAt }`);
graphql(`fragment EventFields on Event { position stream version type data term nodeId createdAt }`);

interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean };
}
const page = <T>(c: Connection<T>): Page<T> => ({ items: c.edges, hasNextPage: c.pageInfo.hasNextPage });

export class GatewayReadModels implements ReadModels {
  constructor(
    private readonly registry: LeaderRegistry,
    private readonly directory: NodeDirectory,
    private readonly queries: Router,
  ) {}

  async cluster(): Promise<ClusterDto> {
    const leader = this.registry.current();
    const nodes: NodeInfoDto[] = this.directory
      .all()
      .filter((n) => n.id !== null)
      .map((n) => ({
        id: n.id as string,
        url: n.url,
        // A node that does not answer is shown as a follower: it certainly is not leading.
        role: n.healthy && n.role ? contractRole(n.role) : 'FOLLOWER',
        term: n.term,
        lastSeenAt: n.lastSeenAt,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const leaderInfo = leader
      ? {
          id: leader.id,
          url: leader.url,
          role: 'LEADER' as const,
          term: leader.term,
          lastSeenAt: this.directory.all().find((n) => n.url === leader.url)?.lastSeenAt ?? leader.at,
        }
      : null;
    const term = Math.max(leader?.term ?? 0, ...nodes.map((n) => n.term));
    return { term, leader: leaderInfo, nodes, self: null };
  }

  async tasks(args: { status?: TaskStatus; first: number; after?: string }): Promise<Page<TaskDto>> {
    const data = await runRemote(this.queries, {
      query: graphql(`query Tasks($status: TaskStatus, $first: Int, $after: String) {
        tasks(status: $status, first: $first, after: $after) { edges { cursor node { ...TaskFields } } pageInfo { hasNextPage } } }`),
      variables: args,
    });
    return page(data.tasks);
  }

  async task(id: string): Promise<TaskDto | null> {
    const data = await runRemote(this.queries, {
      query: graphql(`query Task($id: ID!) { task(id: $id) { ...TaskFields } }`),
      variables: { id },
    });
    return data.task;
  }

  async listings(args: {
    first: number;
    after?: string;
    minPrice?: number;
    maxPrice?: number;
  }): Promise<Page<ListingDto>> {
    const data = await runRemote(this.queries, {
      query: graphql(`query Listings($first: Int, $after: String, $minPrice: Float, $maxPrice: Float) {
        listings(first: $first, after: $after, minPrice: $minPrice, maxPrice: $maxPrice) {
          edges { cursor node { ...ListingFields } } pageInfo { hasNextPage } } }`),
      variables: args,
    });
    return page(data.listings);
  }

  async files(): Promise<StoredFileDto[]> {
    const data = await runRemote(this.queries, {
      query: graphql(`query Files { files { ...StoredFileFields } }`),
    });
    return data.files;
  }

  async events(args: { afterPosition?: number; first: number; stream?: string }): Promise<EventDto[]> {
    const data = await runRemote(this.queries, {
      query: graphql(`query Events($afterPosition: Int, $first: Int, $stream: String) {
        events(afterPosition: $afterPosition, first: $first, stream: $stream) { ...EventFields } }`),
      variables: args,
    });
    return data.events;
  }

  async headPosition(): Promise<number> {
    return (await runRemote(this.queries, { query: graphql(`query HeadPosition { headPosition }`) }))
      .headPosition;
  }
}
