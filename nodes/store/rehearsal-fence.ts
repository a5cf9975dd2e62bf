/**
 * Rehearsed appends: under this fence, which no claim ever takes (terms start at 1), an append is
 * a rehearsal. `append_batch` runs a batch of nothing but rehearsals in full — insert, projection —
 * without the fence lock, and then fails with REHEARSAL_SQLSTATE, so nothing of it is kept
 * (./projection/append-batch.sql.ts): what a session runs once is warm when a leader needs it.
 */
/** A Fence (./event-log.ts), written out: the log reads this module. */
export const REHEARSAL_FENCE: { readonly term: number; readonly nodeId: string } = {
  term: 0,
  nodeId: '(rehearsal)',
};

/** The SQLSTATE a rehearsal ends with (a class of this project's own: "EN"semble). */
export const REHEARSAL_SQLSTATE = 'EN001';

/** The failure a rehearsed batch ends with, and the answer it would have given (its detail). */
export function rehearsalAnswer(error: unknown): string | null {
  const e = error as { code?: unknown; detail?: unknown } | null;
  return e?.code === REHEARSAL_SQLSTATE && typeof e.detail === 'string' ? e.detail : null;
}
