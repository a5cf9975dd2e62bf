/**
 * Which database errors mean "the primary may have moved: look for it again". After a failover or
 * a switchover the old primary's connections break or it answers as a standby; a connection that
 * saw one of these is never used again, and the next one is made to whichever host is now the
 * writable primary (primary-locator.ts).
 */

/** SQLSTATEs of a server that is no longer (or not yet) a writable primary. */
const SERVER_MOVED = new Set([
  '25006', // read_only_sql_transaction: connected to a standby, or a primary fenced read-only
  '57P01', // admin_shutdown: Patroni stopping PostgreSQL (switchover, demotion)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
]);

/** Node's socket errors: the host is down or unreachable. */
const SOCKET_GONE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/**
 * pg's own messages for a connection that broke, never came up or stopped answering (its
 * query_timeout: a host that vanished without a reset); they carry no code.
 */
const PG_BROKEN = [
  /^Connection terminated/,
  /not queryable/,
  /^timeout expired$/,
  /^Client was closed/,
  /^Query read timeout$/,
];

/**
 * Thrown when no host of the URL is the writable primary (yet). `standbyAnswered`: a host did
 * answer, as a standby or read-only — the database is there and its failover manager is moving
 * the primary, as every node sees it — rather than no host answering at all, which may be this
 * node's own loss of the network.
 */
export class NoWritablePrimaryError extends Error {
  constructor(
    message: string,
    readonly standbyAnswered = false,
  ) {
    super(message);
    this.name = 'NoWritablePrimaryError';
  }
}

/** A failover in progress as this node sees it: no host is writable, and a standby answered. */
export function isFailoverInProgress(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof NoWritablePrimaryError) return e.standbyAnswered;
  }
  return false;
}

export function isPrimaryLost(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof NoWritablePrimaryError) return true;
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (SERVER_MOVED.has(code) || code.startsWith('08') || SOCKET_GONE.has(code))
    )
      return true;
    if (PG_BROKEN.some((p) => p.test(e.message))) return true;
  }
  return false;
}
