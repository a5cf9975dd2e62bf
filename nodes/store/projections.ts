/**
 * The read models, projected from the log inside the append's own transaction: a query on any
 * node sees the effects of every committed event and nothing else. `rebuildProjections` replays
 * the whole log through the same code, which is how the tests prove the live tables are exact.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { eventSchemas } from '../../schema/events.js';
import { ListingRow, StoredFileRow, TaskRow } from './entities.js';
import { type StoredEvent, toStoredEvent } from './stored-event.js';

export async function project(em: EntityManager, e: StoredEvent): Promise<void> {
  switch (e.type) {
    case 'TaskCreated': {
      const d = eventSchemas.TaskCreated.parse(e.data);
      await em.insert(TaskRow, {
        id: d.id,
        title: d.title,
        description: d.description,
        status: d.status,
        createdBy: d.createdBy,
        version: e.version,
        createdAt: e.createdAt,
        updatedAt: e.createdAt,
      });
      return;
    }
    case 'TaskUpdated': {
      const { id, ...changes } = eventSchemas.TaskUpdated.parse(e.data);
      await em.nativeUpdate(TaskRow, { id }, { ...changes, version: e.version, updatedAt: e.createdAt });
      return;
    }
    case 'TaskDeleted': {
      await em.nativeDelete(TaskRow, { id: eventSchemas.TaskDeleted.parse(e.data).id });
      return;
    }
    case 'ListingAdded': {
      const d = eventSchemas.ListingAdded.parse(e.data);
      await em.insert(ListingRow, {
        id: listingIdOfStream(e.stream),
        url: d.url,
        title: d.title,
        price: d.price,
        currency: d.currency,
        priceEur: d.priceEur,
        scrapedAt: new Date(d.scrapedAt),
        version: e.version,
      });
      return;
    }
    case 'ListingChanged': {
      const { url: _url, scrapedAt, ...changes } = eventSchemas.ListingChanged.parse(e.data);
      await em.nativeUpdate(
        ListingRow,
        { id: listingIdOfStream(e.stream) },
        { ...changes, scrapedAt: new Date(scrapedAt), version: e.version },
      );
      return;
    }
    case 'FileStored': {
      const d = eventSchemas.FileStored.parse(e.data);
      await em.insert(StoredFileRow, {
        id: d.id,
        name: d.name,
        size: d.size,
        sha256: d.sha256,
        importedListings: d.importedListings,
        createdAt: e.createdAt,
      });
      return;
    }
    case 'LeaderElected':
      // Leadership is read from the election and the Node table; the event is the audit trail.
      return;
    default:
      throw new Error(`no projection for event type ${e.type}`);
  }
}

function listingIdOfStream(stream: string): string {
  return stream.slice('listing-'.length);
}

/** Empty the read models and replay the whole log into them, in one transaction. */
export async function rebuildProjections(em: EntityManager, batchSize = 1000): Promise<number> {
  return em.transactional(async (tx) => {
    await tx.execute('delete from task; delete from listing; delete from stored_file;');
    let after = 0;
    let count = 0;
    for (;;) {
      const rows = await tx.execute<
        {
          position: string;
          stream: string;
          version: number;
          type: string;
          data: unknown;
          metadata: unknown;
          term: string;
          node_id: string;
          created_at: Date;
        }[]
      >('select * from event where position > ? order by position limit ?', [after, batchSize]);
      if (rows.length === 0) return count;
      for (const row of rows) {
        const e = toStoredEvent(row);
        await project(tx, e);
        after = e.position;
        count++;
      }
    }
  });
}
