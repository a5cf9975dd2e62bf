/**
 * The write documents the gateway forwards, previewed to every follower once per its process's
 * life (common/document-preview.ts: validated and cached there, never executed), so the node that
 * leads next finds the documents of the writes it will be sent already validated — the first
 * write after a failover no longer waits for it. A node is shown every known document when it
 * comes up, in a new process (its `startedAt`), or back after being unhealthy; a document is
 * shown to the followers the first time a write of it is answered. Previews go after the write's
 * answer, never before it, and a failed one is tried again at the next occasion.
 */
import type { Logger } from 'pino';
import { PREVIEW_OPERATION, previewBody } from '../../common/document-preview.js';
import { httpRequest } from '../../common/http-client.js';
import type { NodeState } from './node-directory.js';

/** The distinct documents kept (most recently forwarded): far more than an application sends. */
const MAX_DOCUMENTS = 200;
/** A preview is a parse and a validation: a node that takes longer is busy, and is shown later. */
const PREVIEW_TIMEOUT_MS = 2_000;

interface Shown {
  /** The node process these were shown to. */
  readonly startedAt: string | null;
  readonly queries: Set<string>;
}

export class WriteDocuments {
  /** Query texts, least recently forwarded first (a Set keeps insertion order). */
  private readonly documents = new Set<string>();
  /** Per node URL: what its current process has been shown. */
  private readonly shown = new Map<string, Shown>();

  constructor(
    private readonly options: {
      readonly nodes: () => readonly NodeState[];
      readonly logger: Logger;
      readonly maxDocuments?: number;
      /** Told how each preview ended, once the node's answer is in (the metrics count them). */
      readonly onPreview?: (outcome: 'shown' | 'failed') => void;
    },
  ) {}

  /** How many documents are kept (for tests and the metrics). */
  get size(): number {
    return this.documents.size;
  }

  /** A write of `query` was answered by the leader at `leaderUrl`: the other nodes see it too. */
  forwarded(query: string, leaderUrl: string): void {
    if (this.documents.has(query)) {
      // Still known: only nodes not shown it yet (a failed preview, a node that came back) need it.
      this.documents.delete(query);
      this.documents.add(query);
    } else {
      this.documents.add(query);
      const max = this.options.maxDocuments ?? MAX_DOCUMENTS;
      if (this.documents.size > max) this.documents.delete(this.documents.values().next().value as string);
    }
    for (const node of this.options.nodes()) {
      if (node.healthy && node.url !== leaderUrl && node.role !== 'leader') this.show(node, [query]);
    }
  }

  /** The directory saw `node` change: one healthy and not leading is shown what it lacks. */
  nodeChanged(node: NodeState): void {
    if (node.healthy && node.role !== 'leader') this.show(node, [...this.documents]);
  }

  private show(node: NodeState, queries: readonly string[]): void {
    let shown = this.shown.get(node.url);
    if (shown === undefined || shown.startedAt !== node.startedAt) {
      shown = { startedAt: node.startedAt, queries: new Set() };
      this.shown.set(node.url, shown);
    }
    const { queries: seen } = shown;
    const missing = queries.filter((q) => !seen.has(q));
    if (missing.length === 0) return;
    for (const q of missing) seen.add(q);
    void this.send(node.url, missing, seen);
  }

  /**
   * One preview after the other (a node that just came up is not sent a burst); one that fails
   * is forgotten as shown, so the next occasion shows it again.
   */
  private async send(url: string, queries: readonly string[], seen: Set<string>): Promise<void> {
    for (const query of queries) {
      let problem: string | null = null;
      try {
        const res = await httpRequest(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: previewBody(query),
          timeoutMs: PREVIEW_TIMEOUT_MS,
        });
        // 400 naming the preview's operation: validated and kept (an invalid document is refused
        // and not kept, as it would be at the leader). Anything else: the node did not get so far.
        const text = res.body.toString('utf8');
        const validated = text.includes(PREVIEW_OPERATION) || text.includes('GRAPHQL_VALIDATION_FAILED');
        if (res.status !== 400 || !validated) problem = `answered ${res.status}: ${text.slice(0, 200)}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (problem !== null) {
        seen.delete(query);
        this.options.logger.debug({ node: url, problem }, 'document preview failed');
      }
      this.options.onPreview?.(problem === null ? 'shown' : 'failed');
    }
  }
}
