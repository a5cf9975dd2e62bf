/**
 * The test oracle of the projection: its rules written again, in TypeScript, as a pure fold of
 * the log into the rows the read models should hold. Production runs only the SQL
 * (../project-events.sql.ts); projection.test.ts holds the two equal over a varied log, so a
 * change to either that the other does not share fails there.
 */
import { entityIdOfStream, eventSchemas } from '../../../../schema/events.js';
import type { StoredEvent } from '../../stored-event.js';

export interface TaskRowValues {
  id: string;
  title: string;
  description: string | null;
  status: string;
  created_by: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ListingRowValues {
  id: string;
  url: string;
  title: string;
  price: number;
  currency: string;
  price_eur: number;
  scraped_at: string;
  version: number;
}

export interface StoredFileRowValues {
  id: string;
  name: string;
  size: number;
  sha256: string;
  imported_listings: number;
  created_at: string;
}

/** The read models' rows, each table ordered by id; timestamps as ISO strings. */
export interface ReadModelRows {
  task: TaskRowValues[];
  listing: ListingRowValues[];
  stored_file: StoredFileRowValues[];
}

/** What the read models hold after projecting `log` (in position order) into empty tables. */
export function projectionOracle(log: readonly StoredEvent[]): ReadModelRows {
  const tasks = new Map<string, TaskRowValues>();
  const listings = new Map<string, ListingRowValues>();
  const files = new Map<string, StoredFileRowValues>();
  for (const e of log) {
    const at = e.createdAt.toISOString();
    switch (e.type) {
      case 'TaskCreated': {
        const d = eventSchemas.TaskCreated.parse(e.data);
        tasks.set(d.id, {
          id: d.id,
          title: d.title,
          description: d.description,
          status: d.status,
          created_by: d.createdBy,
          version: e.version,
          created_at: at,
          updated_at: at,
        });
        break;
      }
      case 'TaskUpdated': {
        const { id, ...changes } = eventSchemas.TaskUpdated.parse(e.data);
        const task = tasks.get(id);
        if (task) tasks.set(id, { ...task, ...changes, version: e.version, updated_at: at });
        break;
      }
      case 'TaskDeleted':
        tasks.delete(eventSchemas.TaskDeleted.parse(e.data).id);
        break;
      case 'ListingAdded': {
        const d = eventSchemas.ListingAdded.parse(e.data);
        const id = entityIdOfStream(e.stream);
        listings.set(id, {
          id,
          url: d.url,
          title: d.title,
          price: d.price,
          currency: d.currency,
          price_eur: d.priceEur,
          scraped_at: new Date(d.scrapedAt).toISOString(),
          version: e.version,
        });
        break;
      }
      case 'ListingChanged': {
        const d = eventSchemas.ListingChanged.parse(e.data);
        const id = entityIdOfStream(e.stream);
        const listing = listings.get(id);
        if (listing) {
          listings.set(id, {
            ...listing,
            ...(d.title === undefined ? {} : { title: d.title }),
            ...(d.price === undefined ? {} : { price: d.price }),
            ...(d.currency === undefined ? {} : { currency: d.currency }),
            ...(d.priceEur === undefined ? {} : { price_eur: d.priceEur }),
            scraped_at: new Date(d.scrapedAt).toISOString(),
            version: e.version,
          });
        }
        break;
      }
      case 'FileStored': {
        const d = eventSchemas.FileStored.parse(e.data);
        files.set(d.id, {
          id: d.id,
          name: d.name,
          size: d.size,
          sha256: d.sha256,
          imported_listings: d.importedListings,
          created_at: at,
        });
        break;
      }
      case 'LeaderElected':
        break;
      default:
        throw new Error(`no projection for event type ${e.type}`);
    }
  }
  const byId = <T extends { id: string }>(rows: Map<string, T>): T[] =>
    [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { task: byId(tasks), listing: byId(listings), stored_file: byId(files) };
}
