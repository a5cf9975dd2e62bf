/**
 * The value of REHEARSAL_HEADER (./http-headers.ts): an HMAC of the request's idempotency key
 * under CLUSTER_SECRET. Only a node of the cluster can mark a write as a rehearsal, on `/graphql`
 * as in a signed batch, and a mark seen once is worth nothing on another key. (A rehearsal is
 * refused before anything is stored; still, a client must not be able to have its writes
 * refused by a header it sent, or a proxy's.)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function rehearsalMark(secret: string, idempotencyKey: string): string {
  return createHmac('sha256', secret).update(`rehearsal:${idempotencyKey}`).digest('hex');
}

/** True when `mark` is this key's rehearsal mark (false when either is missing). */
export function isRehearsal(secret: string, idempotencyKey: string | undefined, mark: unknown): boolean {
  if (idempotencyKey === undefined || typeof mark !== 'string') return false;
  const expected = Buffer.from(rehearsalMark(secret, idempotencyKey));
  const given = Buffer.from(mark);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
