/**
 * Rehearsed appends: under this fence, which no claim ever takes (terms start at 1), an append is
 * a rehearsal. `append_batch` runs a batch of nothing but rehearsals — decision, insert, projection,
 * on rows — without the fence lock, undoes it, and answers what it would have answered, marked
 * `rehearsed` (./projection/append-batch.sql.ts): what a session runs once is warm when a leader
 * needs it.
 */

/** A Fence (./event-log.ts), written out: the log reads this module. */
export const REHEARSAL_FENCE: { readonly term: number; readonly nodeId: string } = {
  term: 0,
  nodeId: '(rehearsal)',
};

/** The SQLSTATE that ends a rehearsal inside `append_batch` (a class of this project's own: "EN"semble). */
export const REHEARSAL_SQLSTATE = 'EN001';

/** Why every append of a rehearsed batch is refused. */
export const REHEARSAL_REFUSAL = 'a rehearsal: nothing is written';
