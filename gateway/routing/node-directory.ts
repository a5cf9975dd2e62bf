/**
 * The nodes the gateway knows and how each is doing. It polls every node's `/healthz` (which also
 * carries the node's election state and its datagram drop counters), learns more nodes from the
 * cluster's Node table, and hands out healthy nodes in turn for queries. A node that answers
 * `/healthz` as a leader that holds the write fence is reported to the registry as well, so a
 * gateway that restarts finds the leader without waiting for the next election.
 */
import type { Logger } from 'pino';
import { getJson, HttpUnreachableError, httpRequest } from '../../common/http-client.js';
import { type ElectionRole, HEALTHZ_PATH, parseNodeHealth } from '../../common/node-health.js';
import type { DiscoverNodesQuery } from '../../schema/generated/graphql.js';
import { graphql } from '../../schema/generated/index.js';
import type { LeaderRegistry } from './leader-registry.js';

export interface NodeState {
  readonly url: string;
  id: string | null;
  healthy: boolean;
  /** Its election role; any role a node answers /healthz with is healthy (a PreVote round too). */
  role: ElectionRole | null;
  term: number;
  lastSeenAt: Date | null;
  writable: boolean;
  /** Datagrams the node dropped, by reason (its own counters). */
  drops: Record<string, number>;
  /** The last reason it was unhealthy, for logs and the page. */
  problem: string | null;
  /** Its database status as it last reported it (null before its first answer). */
  database: { standing: boolean; failingForMs: number } | null;
  /** When its process started, as it last reported it (null before its first answer, or from an older node). */
  startedAt: string | null;
}

const DISCOVER_EVERY = 10;

export class NodeDirectory {
  private readonly nodes = new Map<string, NodeState>();
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private polls = 0;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly options: {
      readonly seeds: readonly string[];
      readonly registry: LeaderRegistry;
      readonly intervalMs: number;
      readonly logger: Logger;
      readonly onChange?: (node: NodeState) => void;
    },
  ) {
    for (const url of options.seeds) this.add(url);
    options.registry.onChange((leader) => this.add(leader.url));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.polling ??= this.pollAll().finally(() => {
        this.polling = null;
      });
    }, this.options.intervalMs);
    this.polling = this.pollAll().finally(() => {
      this.polling = null;
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** Resolves after one full round of health checks (used at start and by tests). */
  async refresh(): Promise<void> {
    await this.polling;
    await this.pollAll();
  }

  add(url: string): void {
    const key = url.replace(/\/$/, '');
    if (this.nodes.has(key)) return;
    this.nodes.set(key, {
      url: key,
      id: null,
      healthy: false,
      role: null,
      term: 0,
      lastSeenAt: null,
      writable: false,
      drops: {},
      problem: 'not checked yet',
      database: null,
      startedAt: null,
    });
  }

  all(): NodeState[] {
    return [...this.nodes.values()];
  }

  /** Healthy nodes, starting from the next in turn: the first is where a query goes. */
  inTurn(): NodeState[] {
    const healthy = this.all().filter((n) => n.healthy);
    if (healthy.length === 0) return [];
    const start = this.next++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start)];
  }

  /** Whether the node at `url` passed its last check (one not in the directory counts as healthy). */
  isHealthy(url: string): boolean {
    return this.nodes.get(url)?.healthy ?? true;
  }

  /** A node failed a request: take it out of rotation until its next good health check. */
  markUnhealthy(url: string, problem: string): void {
    const node = this.nodes.get(url);
    if (node?.healthy) {
      node.healthy = false;
      node.problem = problem;
      this.options.onChange?.(node);
    }
  }

  private async pollAll(): Promise<void> {
    const timeoutMs = Math.max(200, Math.min(2_000, this.options.intervalMs * 2));
    await Promise.all(this.all().map((node) => this.poll(node, timeoutMs)));
    if (this.polls++ % DISCOVER_EVERY === 0) await this.discover(timeoutMs);
  }

  private async poll(node: NodeState, timeoutMs: number): Promise<void> {
    const state = () => `${node.healthy}/${node.role}/${node.term}/${node.startedAt}`;
    const before = state();
    try {
      const { status, json } = await getJson(`${node.url}${HEALTHZ_PATH}`, timeoutMs);
      if (status !== 200) throw new HttpUnreachableError(node.url, `${HEALTHZ_PATH} answered ${status}`);
      const parsed = parseNodeHealth(json);
      if (!parsed.ok) throw new HttpUnreachableError(node.url, parsed.problem);
      const h = parsed.health;
      Object.assign(node, {
        id: h.id,
        healthy: true,
        role: h.role,
        term: h.term,
        lastSeenAt: new Date(),
        writable: h.writable,
        drops: h.datagrams.dropped,
        problem: null,
        database: h.database,
        startedAt: h.startedAt ?? null,
      });
      if (h.role === 'leader' && h.writable) {
        const result = this.options.registry.accept({ id: h.id, url: node.url, term: h.term });
        if (result.kind === 'accepted' && result.changed) {
          this.options.logger.info({ leader: h.id, term: h.term }, 'leader found by health check');
        }
      }
    } catch (error) {
      node.healthy = false;
      node.writable = false;
      node.problem = (error as Error).message;
    }
    if (before !== state()) this.options.onChange?.(node);
  }

  /** Learn nodes from the cluster's Node table (any healthy node can tell). */
  private async discover(timeoutMs: number): Promise<void> {
    const node = this.inTurn()[0];
    if (!node) return;
    try {
      const res = await httpRequest(`${node.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: graphql(`query DiscoverNodes { cluster { nodes { url } } }`) }),
        timeoutMs,
      });
      const body = JSON.parse(res.body.toString('utf8')) as { data?: Partial<DiscoverNodesQuery> };
      for (const n of body.data?.cluster?.nodes ?? []) this.add(n.url);
    } catch (error) {
      this.options.logger.debug({ err: (error as Error).message }, 'node discovery failed');
    }
  }
}
