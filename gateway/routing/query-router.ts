/**
 * Sends each read to the healthy node with the fewest reads in flight — least outstanding
 * requests, as Envoy's LEAST_REQUEST and nginx's least_conn — taking ties in turn. Every node
 * reads the same PostgreSQL, so any of them answers. A node that is slow (paused, overloaded,
 * collecting garbage) keeps its reads in flight and so stops getting new ones, where plain turns
 * would go on sending it its share until a request or a health check fails. A node that cannot
 * be reached is taken out of rotation and the next one is asked.
 */

import { type HttpResponse, HttpUnreachableError } from '../../common/http-client.js';
import { tracingOn } from '../../common/tracing.js';
import { type NodeTransport, plainTransport } from './node-batcher.js';
import type { NodeDirectory } from './node-directory.js';
import { NoNodeError } from './routing-errors.js';
import { routeSpan } from './traced-routing.js';

export class QueryRouter {
  private readonly inFlight = new Map<string, number>();
  /** With `oneNodePerTurn`: where this event-loop turn's reads go, or null before the first. */
  private turnNode: string | null = null;

  constructor(
    private readonly options: {
      readonly directory: Pick<NodeDirectory, 'inTurn' | 'all' | 'markUnhealthy'>;
      readonly nodeTimeoutMs: number;
      /** How requests travel (the gateway batches them); one by one when not given. */
      readonly transport?: NodeTransport;
      /**
       * Send all reads of one event-loop turn to the same node (the least loaded when the turn's
       * first read came), so that they leave as one batch; the next turn chooses again.
       */
      readonly oneNodePerTurn?: boolean;
    },
  ) {}

  send(body: Buffer | string, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    if (!tracingOn()) return this.route(body, headers, signal);
    return routeSpan('read', () => this.route(body, headers, signal));
  }

  private async route(
    body: Buffer | string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const { directory } = this.options;
    // Before the first health check, or when all look down, try every node anyway.
    const healthy = directory.inTurn();
    const load = (url: string) => this.inFlight.get(url) ?? 0;
    // A stable sort: among nodes equally loaded, the turn order stays.
    const candidates = [...(healthy.length > 0 ? healthy : directory.all())].sort(
      (a, b) => load(a.url) - load(b.url),
    );
    if (this.options.oneNodePerTurn) {
      const chosen = candidates.findIndex((n) => n.url === this.turnNode);
      if (chosen > 0) candidates.unshift(...candidates.splice(chosen, 1));
      else if (chosen < 0 && candidates[0]) {
        this.turnNode = candidates[0].url;
        setImmediate(() => {
          this.turnNode = null;
        });
      }
    }
    const problems: string[] = [];
    for (const node of candidates) {
      this.inFlight.set(node.url, load(node.url) + 1);
      try {
        return await (this.options.transport ?? plainTransport).send(node.url, body, headers, {
          timeoutMs: this.options.nodeTimeoutMs,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (!(error instanceof HttpUnreachableError) || signal?.aborted) throw error;
        directory.markUnhealthy(node.url, error.reason);
        problems.push(error.message);
      } finally {
        this.inFlight.set(node.url, load(node.url) - 1);
      }
    }
    throw new NoNodeError(problems.join('; ') || 'no node is known (set NODE_URLS)');
  }
}
