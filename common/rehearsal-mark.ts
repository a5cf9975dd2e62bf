/**
 * The value of REHEARSAL_HEADER (./http-headers.ts): the request's idempotency key signed with
 * CLUSTER_SECRET, as the gateway's batches are (./graphql-batch.ts). Only a node of the cluster
 * can mark a write as a rehearsal, on `/graphql` as in a signed batch, and a mark seen once is
 * worth nothing on another key. (A rehearsal is refused before anything is stored; still, a
 * client must not be able to have its writes refused by a header it sent, or a proxy's.)
 */
import { batchSignatureValid, signBatch } from './graphql-batch.js';

/** What a mark signs: the key, tagged, so that no other signed text is a mark. */
const signed = (idempotencyKey: string): Buffer => Buffer.from(`rehearsal:${idempotencyKey}`);

export function rehearsalMark(secret: string, idempotencyKey: string): string {
  return signBatch(secret, signed(idempotencyKey));
}

/** True when `mark` is this key's rehearsal mark (false when either is missing). */
export function isRehearsal(secret: string, idempotencyKey: string | undefined, mark: unknown): boolean {
  if (idempotencyKey === undefined || typeof mark !== 'string') return false;
  return batchSignatureValid(secret, signed(idempotencyKey), mark);
}
