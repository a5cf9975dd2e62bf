/** Awaiting log records of child processes: "resolve with the first record, from now on, that matches". */
export class LogWaiters<R> {
  private readonly waiters = new Set<{ predicate: (r: R) => boolean; resolve: (r: R) => void }>();

  waitFor(predicate: (r: R) => boolean, timeoutMs: number, what: string): Promise<R> {
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
    for (const w of [...this.waiters]) {
      if (w.predicate(record)) {
        this.waiters.delete(w);
        w.resolve(record);
      }
    }
  }
}
