/**
 * Clients writing back to back through the gateway (createTask, each keyed by an Idempotency-Key
 * header), recording when each write was acknowledged: the write load of the transfer tests and
 * of `npm run bench:transfer`. A refused write is recorded; with `retry` it is sent again with
 * the same key until it is acknowledged (a crash's NO_LEADER), else the client goes on.
 */

export interface Ack {
  readonly title: string;
  readonly id: string;
  /** performance.now() when the answer arrived. */
  readonly at: number;
}

export class SteadyWriter {
  readonly acks: Ack[] = [];
  readonly refusals: string[] = [];
  private readonly ackListeners = new Set<(ack: Ack) => void>();
  private running = false;
  private clients: Promise<void>[] = [];

  constructor(
    private readonly options: {
      readonly gatewayUrl: string;
      readonly apiToken: string;
      /** Titles are `${prefix}-c${client}-${n}`; the key is the title. */
      readonly prefix: string;
      readonly clients?: number;
      readonly retry?: boolean;
    },
  ) {}

  start(): void {
    this.running = true;
    this.clients = Array.from({ length: this.options.clients ?? 1 }, (_, c) => this.client(c));
  }

  /** Stops sending; resolves once every write sent has been answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  /** Resolves once `n` more writes have been acknowledged. */
  more(n: number): Promise<void> {
    const target = this.acks.length + n;
    if (n <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.onAck(() => {
        if (this.acks.length < target) return;
        off();
        resolve();
      });
    });
  }

  /** Calls `listener` with each acknowledgement as it arrives; returns the unsubscribe function. */
  onAck(listener: (ack: Ack) => void): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  /**
   * The longest time between two consecutive acknowledgements from the last one before `from`
   * to the first one after `to` (performance.now() times): the write gap around an event.
   */
  longestGap(from: number, to: number): number {
    return this.longestGapSpan(from, to).ms;
  }

  /** The same gap, with the time of the acknowledgement that ended it (0 without one). */
  longestGapSpan(from: number, to: number): { ms: number; end: number } {
    const times = this.acks.map((a) => a.at).sort((a, b) => a - b);
    const first = Math.max(
      0,
      times.findLastIndex((t) => t <= from),
    );
    const afterTo = times.findIndex((t) => t >= to);
    const last = afterTo === -1 ? times.length - 1 : afterTo;
    let longest = { ms: 0, end: 0 };
    for (let i = first + 1; i <= last; i++) {
      const ms = (times[i] ?? 0) - (times[i - 1] ?? 0);
      if (ms > longest.ms) longest = { ms, end: times[i] ?? 0 };
    }
    return longest;
  }

  private async client(c: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const title = `${this.options.prefix}-c${c}-${n}`;
      for (;;) {
        const outcome = await this.write(title);
        if (typeof outcome !== 'string') {
          this.acks.push(outcome);
          for (const listener of [...this.ackListeners]) listener(outcome);
          break;
        }
        this.refusals.push(`${title}: ${outcome}`);
        if (!this.options.retry) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** The acknowledgement, or what went wrong. */
  private async write(title: string): Promise<Ack | string> {
    try {
      const res = await fetch(`${this.options.gatewayUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.options.apiToken}`,
          'idempotency-key': title,
        },
        body: JSON.stringify({
          query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
          variables: { t: title },
        }),
      });
      const body = (await res.json()) as { data?: { createTask?: { id: string } } | null; errors?: unknown };
      const id = body.data?.createTask?.id;
      if (id && !body.errors) return { title, id, at: performance.now() };
      return `HTTP ${res.status} ${JSON.stringify(body.errors)}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
}
