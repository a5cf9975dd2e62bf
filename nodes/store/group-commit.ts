/**
 * Group commit: appends from this process are written by one writer, in batches — whatever
 * queued up while a batch was being written goes into the next one. One fence lock, one insert,
 * one commit and one fsync for many appends, and no pile of transactions queueing on the fence
 * row, which PostgreSQL handles badly.
 */
import type { AppendResult, FencedAppend } from './event-log.js';

/**
 * The most appends one batch takes (bounds its transaction's size and how long it holds the
 * fence lock: tens of milliseconds at 500). As many as one upsertListings request carries, so a
 * full batch from the queue consumer is one transaction (at 200 it was three, and ingest 10 %
 * slower: bench:ingest).
 */
const MAX_BATCH = 500;

interface Queued extends FencedAppend {
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private readonly queue: Queued[] = [];
  private writing = false;
  private scheduled = false;

  /** `write` writes one batch, settling each append on its own (EventLog.appendBatch). */
  constructor(
    private readonly write: (batch: readonly FencedAppend[]) => Promise<PromiseSettledResult<AppendResult>[]>,
  ) {}

  /**
   * Queue one append. The writer starts at the end of the current task, so appends submitted
   * together (a request's listings) go into one batch rather than the first alone.
   */
  submit(append: FencedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...append, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.writing = false;
    }
  }

  /**
   * The next batch: queued appends in order, up to MAX_BATCH, leaving for a later batch any that
   * writes a stream or carries an idempotency key of an append before it in the queue (taken or
   * left). So within a batch every append can be checked on its own, and appends to one stream
   * or with one key are still checked in the order they were queued.
   */
  private takeBatch(): Queued[] {
    const taken: Queued[] = [];
    const left: Queued[] = [];
    const streams = new Set<string>();
    const keys = new Set<string>();
    for (const q of this.queue) {
      const own = q.appends.filter((a) => a.events.length > 0).map((a) => a.stream);
      const key = q.options.idempotencyKey;
      const clash =
        taken.length >= MAX_BATCH || (key !== undefined && keys.has(key)) || own.some((s) => streams.has(s));
      (clash ? left : taken).push(q);
      for (const s of own) streams.add(s);
      if (key !== undefined) keys.add(key);
    }
    this.queue.length = 0;
    this.queue.push(...left);
    return taken;
  }

  private async writeBatch(batch: readonly Queued[]): Promise<void> {
    let outcomes: PromiseSettledResult<AppendResult>[];
    try {
      outcomes = await this.write(batch);
    } catch (error) {
      // The statement failed (a projection, the commit): nothing of this batch is stored.
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'fulfilled') q.resolve(outcome.value);
      else q.reject(outcome ? outcome.reason : new Error('unreachable: an append without an outcome'));
    });
  }
}
