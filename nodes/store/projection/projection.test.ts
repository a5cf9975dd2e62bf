/**
 * The projection's SQL (what append_batch and the rebuild run) against its TypeScript oracle, on
 * a real PostgreSQL, over a log with every kind of event and both of project_events' paths.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type DomainEvent, entityIdOfStream, streams } from '../../../schema/events.js';
import { startTestPostgres, type TestPostgres } from '../../../test-support/postgres.js';
import { CLAIM_FENCE_SQL } from '../claim-fence.sql.js';
import { openDatabase } from '../database.js';
import { EventStore, type Fence } from '../event-store.js';
import { APPEND_BATCH_RUN_SQL, APPEND_BATCH_SQL } from './append-batch.sql.js';
import { PROJECTION_SQL } from './project-events.sql.js';
import { rebuildProjections } from './rebuild-projections.js';
import { projectionOracle, type ReadModelRows } from './test/projection-oracle.js';

let pg: TestPostgres;
let orm: MikroORM;
let store: EventStore;
const n1: Fence = { term: 1, nodeId: 'n1' };

before(async () => {
  pg = await startTestPostgres();
  orm = await openDatabase(await pg.createDatabase());
  store = new EventStore(orm);
  await store.fence.claim(n1, 'http://n1');
  await writeVariedLog();
});
after(async () => {
  await orm?.close();
  await pg?.stop();
});

const hash = (i: number) => i.toString(16).padStart(32, '0');
const url = (i: number) => `https://shop.example/item/${i}`;
const added = (i: number, scrapedAt = '2026-11-24T10:00:00.000Z'): DomainEvent => ({
  type: 'ListingAdded',
  data: { url: url(i), title: `item ${i}`, price: 100 + i, currency: 'MDL', priceEur: 5 + i / 10, scrapedAt },
});
const changed = (
  i: number,
  change: { title?: string; price?: number; currency?: string; priceEur?: number },
) =>
  ({
    type: 'ListingChanged',
    data: { url: url(i), ...change, scrapedAt: '2026-11-25T08:30:00.000+02:00' },
  }) satisfies DomainEvent;
const taskCreated = (id: string, title: string): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title, description: descriptionFor(title), status: 'TODO', createdBy: 'n1' },
});
/** Some tasks with a description, some without. */
const descriptionFor = (title: string) => (title.length % 2 === 0 ? `about ${title}` : null);

async function writeVariedLog(): Promise<void> {
  // Tasks created, updated field by field (a description set to null too), deleted.
  const ids = Array.from({ length: 12 }, () => randomUUID());
  for (const [k, id] of ids.entries()) {
    const stream = streams.task(id);
    await store.append(n1, [{ stream, expectedVersion: 0, events: [taskCreated(id, `task ${k}`)] }]);
    const update: DomainEvent =
      k % 3 === 0
        ? { type: 'TaskUpdated', data: { id, title: `renamed ${k}`, description: null } }
        : { type: 'TaskUpdated', data: { id, status: k % 3 === 1 ? 'IN_PROGRESS' : 'DONE' } };
    await store.append(n1, [{ stream, expectedVersion: 1, events: [update] }]);
    if (k % 4 === 0) {
      await store.append(n1, [
        { stream, expectedVersion: 2, events: [{ type: 'TaskDeleted', data: { id } }] },
      ]);
    }
  }
  // Listings added alone (the set-based path), added and changed in one append (event by event),
  // and changed later, one field at a time.
  for (let k = 0; k < 8; k++) {
    await store.append(n1, [
      {
        stream: streams.listing(hash(k)),
        expectedVersion: 0,
        events: k % 3 === 0 ? [added(k), changed(k, { price: 90 })] : [added(k)],
      },
    ]);
  }
  const later = [{ title: 'new title' }, { currency: 'EUR', priceEur: 91 }, { price: 1.5 }];
  for (const [k, change] of later.entries()) {
    await store.append(n1, [
      { stream: streams.listing(hash(k + 1)), expectedVersion: 'any', events: [changed(k + 1, change)] },
    ]);
  }
  // One group-committed batch mixing both paths and every task event.
  await Promise.all(
    store.appendAll(
      n1,
      Array.from({ length: 10 }, (_, k) => {
        const id = randomUUID();
        const listing = streams.listing(hash(100 + k));
        return {
          appends: [
            {
              stream: streams.task(id),
              expectedVersion: 0,
              events: [
                taskCreated(id, `burst ${k}`),
                { type: 'TaskUpdated', data: { id, description: `d${k}`, status: 'DONE' } },
                ...(k % 4 === 0 ? [{ type: 'TaskDeleted' as const, data: { id } }] : []),
              ],
            },
            {
              stream: listing,
              expectedVersion: 0,
              events: k % 2 === 0 ? [added(100 + k)] : [added(100 + k), changed(100 + k, { title: `c${k}` })],
            },
          ],
        };
      }),
    ),
  );
  // A file whose import adds listings and changes one already there, in the file's own append.
  const sha = 'ab'.repeat(32);
  await store.append(
    n1,
    [
      {
        stream: streams.file(sha),
        expectedVersion: 0,
        events: [
          {
            type: 'FileStored',
            data: { id: randomUUID(), name: 'listings.json', size: 3, sha256: sha, importedListings: 4 },
          },
        ],
      },
      ...[200, 201, 202].map((k) => ({
        stream: streams.listing(hash(k)),
        expectedVersion: 0,
        events: [added(k, '2026-11-26T09:15:00.250+03:00')],
      })),
      { stream: streams.listing(hash(2)), expectedVersion: 'any', events: [changed(2, { priceEur: 4.25 })] },
    ],
    { blobs: [{ sha256: sha, content: Buffer.from('abc') }] },
  );
}

/** The read models as the database holds them, in the oracle's shape. */
async function liveRows(em: EntityManager): Promise<ReadModelRows> {
  const iso = (d: Date) => new Date(d).toISOString();
  const rows = (table: string) =>
    em.execute<Record<string, unknown>[]>(`select * from ${table} order by id::text collate "C"`);
  return {
    task: (await rows('task')).map((r) => ({
      ...(r as unknown as ReadModelRows['task'][number]),
      created_at: iso(r.created_at as Date),
      updated_at: iso(r.updated_at as Date),
    })),
    listing: (await rows('listing')).map((r) => ({
      ...(r as unknown as ReadModelRows['listing'][number]),
      scraped_at: iso(r.scraped_at as Date),
    })),
    stored_file: (await rows('stored_file')).map((r) => ({
      ...(r as unknown as ReadModelRows['stored_file'][number]),
      created_at: iso(r.created_at as Date),
    })),
  };
}

describe('the projection', () => {
  test('live, as append_batch projected each append, the read models equal the oracle’s', async () => {
    const log = await store.readAll({ limit: 10_000 });
    const types = new Set(log.map((e) => e.type));
    assert.deepEqual([...types].sort(), [
      'FileStored',
      'LeaderElected',
      'ListingAdded',
      'ListingChanged',
      'TaskCreated',
      'TaskDeleted',
      'TaskUpdated',
    ]);
    const expected = projectionOracle(log);
    assert.equal(expected.task.length, 12 - 3 + 10 - 3);
    assert.equal(expected.listing.length, 8 + 10 + 3);
    assert.equal(expected.stored_file.length, 1);
    assert.deepEqual(await liveRows(orm.em.fork() as EntityManager), expected);
  });

  test('rebuilt from the log through the same SQL, in batches, the read models equal the oracle’s', async () => {
    const log = await store.readAll({ limit: 10_000 });
    // Batches of 7 cut appends apart: a listing's ListingAdded and ListingChanged fall in different ones.
    for (const batchSize of [7, 1000]) {
      await orm.em.fork().execute(`update listing set title = 'stale'; delete from task`);
      assert.equal(await rebuildProjections(orm.em.fork() as EntityManager, batchSize), log.length);
      assert.deepEqual(
        await liveRows(orm.em.fork() as EntityManager),
        projectionOracle(log),
        `batch ${batchSize}`,
      );
    }
  });

  test('a rebuild refuses a batch size that is not a positive integer', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        rebuildProjections(orm.em.fork() as EntityManager, bad),
        /batchSize must be a positive integer/,
      );
    }
  });

  test('the database runs the module’s current text (an edit needs a migration that applies it again)', async () => {
    const em = orm.em.fork();
    for (const sql of [...PROJECTION_SQL, APPEND_BATCH_RUN_SQL, APPEND_BATCH_SQL, CLAIM_FENCE_SQL]) {
      const [, name, body] =
        /create or replace function (\w+)\([\s\S]*? as \$\$([\s\S]*)\$\$/.exec(sql) ?? [];
      assert.ok(name && body !== undefined, `no function in ${sql.slice(0, 80)}`);
      const installed = await em.execute<{ prosrc: string }[]>(
        'select prosrc from pg_proc where proname = ?',
        [name],
      );
      assert.deepEqual(
        installed.map((r) => r.prosrc),
        [body],
        `${name} as installed differs from its module: add a migration that applies it`,
      );
    }
  });

  test('stream ids: SQL and TypeScript read the same entity id, and a name without one is refused', async () => {
    const names = [
      streams.listing(hash(7)),
      streams.task(randomUUID()),
      streams.file('cd'.repeat(32)),
      'a-b-c',
    ];
    const [row] = await orm.em
      .fork()
      .execute<{ ids: string[] }[]>(
        'select array(select stream_entity_id(s) from jsonb_array_elements_text(?::jsonb) s) as ids',
        [JSON.stringify(names)],
      );
    assert.deepEqual(
      row?.ids,
      names.map((n) => entityIdOfStream(n)),
    );
    for (const bad of ['cluster', '-x', 'task-'])
      assert.throws(() => entityIdOfStream(bad), /is not named <type>-<entity id>/);
  });
});
