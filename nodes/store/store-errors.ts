/** Why an append was refused. The API layer turns these into GraphQL error codes. */

/** This node may not write: another node holds the fence, or a higher term has begun. */
export class NotLeaderError extends Error {
  constructor(
    readonly fence: { readonly term: number; readonly nodeId: string } | null,
    message: string,
  ) {
    super(message);
  }
}

/** Optimistic concurrency: the stream is not at the version the writer decided on. */
export class VersionConflictError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`stream ${stream} is at version ${actual}, not the expected ${expected}`);
  }
}
