/** What the routers answer when they cannot: no leader in time, or no node reachable for a read. */
export class NoLeaderError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no leader was announced within ${waitedMs} ms; retry shortly`);
    this.name = 'NoLeaderError';
  }
}

export class NoNodeError extends Error {
  constructor(detail: string) {
    super(`no node could answer: ${detail}`);
    this.name = 'NoNodeError';
  }
}
