/**
 * The write documents the gateway forwards, previewed to every follower once per its process's
 * life (common/document-preview.ts: validated and cached there, never executed), so the node that
 * leads next finds the documents of the writes it will be sent already validated — the first
 * write after a failover no longer waits for it. A document is previewed once it has been
 * answered by the leader twice (an application's documents repeat; one with its values written
 * into it, new at every write, is never previewed), after the answer, never before it. A node is
 * shown every kept document when it comes up, in a new process (its `startedAt`), or back after
 * being unhealthy; a failed preview is tried again at the next occasion. One node's previews go
 * one after the other.
 */
import type { Logger } from 'pino';
import { PREVIEW_OPERATION, previewBody } from '../../common/document-preview.js';
import { httpRequest } from '../../common/http-client.js';
import type { NodeState } from './node-directory.js';

/** The distinct documents kept (most recently forwarded): far more than an application sends. */
const MAX_DOCUMENTS = 200;
/** A preview is a parse and a validation: a node that takes longer is busy, and is shown later. */
const PREVIEW_TIMEOUT_MS = 2_000;
/** Forwards of a document before it is previewed. */
const PREVIEW_AFTER = 2;

interface NodePreviews {
  /** The node process these were shown to. */
  readonly startedAt: string | null;
  readonly shown: Set<string>;
  /** The previews under way, one after the other. */
  queue: Promise<void>;
}

const withoutSlash = (url: string) => url.replace(/\/$/, '');

export class WriteDocuments {
  /** Query texts and how often each was forwarded, least recently forwarded first. */
  private readonly documents = new Map<string, number>();
  private readonly nodes = new Map<string, NodePreviews>();
  private stopped = false;

  constructor(
    private readonly options: {
      readonly nodes: () => readonly NodeState[];
      readonly logger: Logger;
      readonly maxDocuments?: number;
      /** Told how each preview ended, once the node's answer is in (the metrics count them). */
      readonly onPreview?: (outcome: 'shown' | 'failed') => void;
    },
  ) {}

  /** How many documents are kept (for tests). */
  get size(): number {
    return this.documents.size;
  }

  /** The documents previewed to a node that comes up. */
  private previewed(): string[] {
    return [...this.documents].filter(([, n]) => n >= PREVIEW_AFTER).map(([q]) => q);
  }

  /** A write of `query` was answered by the leader at `leaderUrl`: the other nodes see it too. */
  forwarded(query: string, leaderUrl: string): void {
    // A document that names the preview's operation would have it run on the followers.
    if (this.stopped || query.includes(PREVIEW_OPERATION)) return;
    const count = (this.documents.get(query) ?? 0) + 1;
    this.documents.delete(query);
    this.documents.set(query, count);
    const max = this.options.maxDocuments ?? MAX_DOCUMENTS;
    if (this.documents.size > max) {
      const oldest = this.documents.keys().next().value as string;
      this.documents.delete(oldest);
      for (const node of this.nodes.values()) node.shown.delete(oldest);
    }
    if (count < PREVIEW_AFTER) return;
    const leader = withoutSlash(leaderUrl);
    for (const node of this.options.nodes()) {
      if (node.healthy && withoutSlash(node.url) !== leader && node.role !== 'leader')
        this.show(node, [query]);
    }
  }

  /** The directory saw `node` change: one healthy and not leading is shown what it lacks. */
  nodeChanged(node: NodeState): void {
    if (!this.stopped && node.healthy && node.role !== 'leader') this.show(node, this.previewed());
  }

  /** No more previews; resolves once those under way have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.nodes.values()].map((n) => n.queue));
  }

  private show(node: NodeState, queries: readonly string[]): void {
    let previews = this.nodes.get(node.url);
    if (previews === undefined || previews.startedAt !== node.startedAt) {
      previews = { startedAt: node.startedAt, shown: new Set(), queue: previews?.queue ?? Promise.resolve() };
      this.nodes.set(node.url, previews);
    }
    const { shown } = previews;
    const missing = queries.filter((q) => !shown.has(q));
    if (missing.length === 0) return;
    for (const q of missing) shown.add(q);
    previews.queue = previews.queue.then(() => this.send(node.url, missing, shown));
  }

  /** Previews one after the other; one that fails is forgotten as shown (the next occasion shows it). */
  private async send(url: string, queries: readonly string[], shown: Set<string>): Promise<void> {
    for (const query of queries) {
      if (this.stopped) return;
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
        shown.delete(query);
        this.options.logger.debug({ node: url, problem }, 'document preview failed');
      }
      this.options.onPreview?.(problem === null ? 'shown' : 'failed');
    }
  }
}
