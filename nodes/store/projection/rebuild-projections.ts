/**
 * Rebuild the read models from the log: empty them and replay every event through the same SQL
 * the appends run (`project_events`, ./project-events.sql.ts), a batch of positions at a time.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

/** Returns how many events were replayed. One transaction: readers see the old tables until it commits. */
export async function rebuildProjections(em: EntityManager, batchSize = 1000): Promise<number> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  return em.transactional(async (tx) => {
    // No append or claim meanwhile: both lock the fence row first, which this lock excludes
    // (plain reads of it go on), so nothing projects into the tables while they are rebuilt.
    await tx.execute('lock table leadership in exclusive mode');
    await tx.execute('delete from task; delete from listing; delete from stored_file;');
    let after = 0;
    let count = 0;
    for (;;) {
      const [step] = await tx.execute<{ last: string | null; replayed: string }[]>(
        `select project_events(array_agg(b.position order by b.position)), max(b.position) as last,
                count(*) as replayed
           from (select position from event where position > ? order by position limit ?) b`,
        [after, batchSize],
      );
      if (!step || step.last === null) return count;
      after = Number(step.last);
      count += Number(step.replayed);
    }
  });
}
