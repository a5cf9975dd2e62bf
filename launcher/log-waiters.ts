/** How many of the latest records a `past` wait looks at (bounded: `npm start` runs for days). */
const KEPT = 10_000;

/** Awaiting log records of child processes: "resolve with the first record, from now on, that matches". */
export class LogWaiters<R> {
  private readonly waiters = new Set<{ predicate: (r: R) => boolean; resolve: (r: R) => void }>();
  /** The latest records, for `past` waits. */
  private readonly kept: R[] = [];

  waitFor(
    predicate: (r: R) => boolean,
    timeoutMs: number,
    what: string,
    options: WaitOptions = {},
  ): Promise<R> {
    if (options.past) {
      const seen = this.kept.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (r: R) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Hand a new record to every waiter whose predicate it matches. */
  offer(record: R): void {
    if (this.kept.push(record) > KEPT) this.kept.shift();
    for (const w of [...this.waiters]) {
      if (w.predicate(record)) {
        this.waiters.delete(w);
        w.resolve(record);
      }
    }
  }
}

export interface WaitOptions {
  /**
   * Also match the records already logged (the last 10,000, oldest first): for a wait that starts
   * after an await during which its record may have come, which a wait from now on would miss.
   */
  readonly past?: boolean;
}
