/**
 * Sends reads to the healthy nodes in turn (every node reads the same PostgreSQL, so any of them
 * answers). A node that cannot be reached is taken out of rotation and the next one is asked.
 */
import type { NodeDirectory } from './node-directory.js';
import { type NodeResponse, NodeUnreachableError, send } from './node-http.js';
import { NoNodeError } from './routing-errors.js';

export class QueryRouter {
  constructor(
    private readonly options: { readonly directory: NodeDirectory; readonly nodeTimeoutMs: number },
  ) {}

  async send(
    body: Buffer | string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<NodeResponse> {
    const { directory } = this.options;
    // Before the first health check, or when all look down, try every node anyway.
    const healthy = directory.inTurn();
    const candidates = healthy.length > 0 ? healthy : directory.all();
    const problems: string[] = [];
    for (const node of candidates) {
      try {
        return await send(`${node.url}/graphql`, {
          method: 'POST',
          headers,
          body,
          timeoutMs: this.options.nodeTimeoutMs,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (!(error instanceof NodeUnreachableError) || signal?.aborted) throw error;
        directory.markUnhealthy(node.url, error.reason);
        problems.push(error.message);
      }
    }
    throw new NoNodeError(problems.join('; ') || 'no node is known (set NODE_URLS)');
  }
}
