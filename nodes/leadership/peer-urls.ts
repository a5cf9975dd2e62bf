/**
 * The nodes' URLs as the Node table gives them, kept in memory: where to send a client that
 * asked a follower to write, and the URL in a leader-change notice.
 */
import type { LeaderRef } from '../../api/errors.js';
import type { NodeRegistry } from '../store/node-registry.js';

export class PeerUrls {
  private readonly urls = new Map<string, string>();

  constructor(
    private readonly registry: NodeRegistry,
    self: { readonly id: string; readonly url: string },
  ) {
    this.urls.set(self.id, self.url);
  }

  async refresh(): Promise<void> {
    for (const n of await this.registry.list()) this.urls.set(n.id, n.url);
  }

  /** The node's URL, '' when the Node table has not shown it yet. */
  urlOf(id: string): string {
    return this.urls.get(id) ?? '';
  }

  /**
   * The node's URL, re-reading the Node table first when it is not known yet (it is re-read only
   * once a second, so a node that read it before a new leader's row existed would answer '' for
   * up to a second). Still '' when the table does not have it or does not answer.
   */
  async lookup(id: string): Promise<string> {
    if (!this.urls.has(id)) await this.refresh().catch(() => {});
    return this.urlOf(id);
  }

  leaderRef(leader: string | null): LeaderRef | null {
    return leader === null ? null : { id: leader, url: this.urlOf(leader) };
  }
}
