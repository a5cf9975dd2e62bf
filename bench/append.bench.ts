/**
 * `npm run bench:append`: events appended per second through the event store (fence check,
 * stream version, insert, projection, notify — one transaction each) against raw `pg` INSERTs
 * into the same table, in the same run on the same durable PostgreSQL (fsync on), at 1, 8 and 32
 * concurrent writers; single appends (one event each) and batched ones (10 events per append).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../nodes/store/database.js';
import { EventStore, type Fence } from '../nodes/store/event-store.js';
import type { DomainEvent } from '../schema/events.js';
import { startTestPostgres } from '../test-support/postgres.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    writers: { type: 'string', default: '1,8,32' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const writerCounts = (values.writers ?? '1,8,32').split(',').map(Number);
/** Raw and store runs alternate, `rounds` of each per cell, so a burst of load elsewhere on the machine hits both. */
const rounds = Number(values.rounds);

const created = (id: string): DomainEvent => ({
  type: 'TaskCreated',
  data: { id, title: 'benchmark task', description: null, status: 'TODO', createdBy: 'n1' },
});

/** Run `writers` loops of `op` for `duration` seconds; returns operations and seconds taken. */
async function measure(
  writers: number,
  op: () => Promise<number>,
  duration: number,
): Promise<{ events: number; seconds: number }> {
  const deadline = performance.now() + duration * 1000;
  let events = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        // Not `events += await op()`: that reads `events` before the await and loses updates.
        const n = await op();
        events += n;
      }
    }),
  );
  return { events, seconds: (performance.now() - started) / 1000 };
}

/** Raw and store alternating, `rounds` times each; events per second of each side over its rounds. */
async function compare(
  writers: number,
  raw: () => Promise<number>,
  store: () => Promise<number>,
): Promise<[number, number]> {
  const totals = { raw: { events: 0, seconds: 0 }, store: { events: 0, seconds: 0 } };
  for (let r = 0; r < rounds; r++) {
    for (const [side, op] of [
      ['raw', raw],
      ['store', store],
    ] as const) {
      const m = await measure(writers, op, seconds / rounds);
      totals[side].events += m.events;
      totals[side].seconds += m.seconds;
    }
  }
  return [totals.raw.events / totals.raw.seconds, totals.store.events / totals.store.seconds];
}

async function main(): Promise<void> {
  const server = await startTestPostgres({ durable: true });
  try {
    const url = await server.createDatabase('bench');
    const orm = await openDatabase(url, { poolSize: 40 });
    const store = new EventStore(orm);
    const fence: Fence = { term: 1, nodeId: 'n1' };
    await store.fence.claim(fence, 'http://127.0.0.1:4001');
    const raw = new pg.Pool({ connectionString: url, max: 40 });
    raw.on('error', () => {}); // an idle client dropped at shutdown is not a result

    const rawInsert = (n: number) => async () => {
      const id = randomUUID();
      const rows = Array.from({ length: n }, (_, i) => i);
      // One statement: the same columns the store writes, no fence, no version check, no projection.
      await raw.query(
        `insert into event (stream, version, type, data, metadata, term, node_id)
         select $1, v, 'TaskCreated', $2::jsonb, '{}'::jsonb, 1, 'n1' from unnest($3::int[]) as v`,
        [`raw-${id}`, JSON.stringify(created(id).data), rows.map((i) => i + 1)],
      );
      return n;
    };
    const storeAppend = (n: number) => async () => {
      const id = randomUUID();
      const events: DomainEvent[] = [created(id)];
      for (let i = 1; i < n; i++) events.push({ type: 'TaskUpdated', data: { id, title: `title ${i}` } });
      await store.append(fence, [{ stream: `task-${id}`, expectedVersion: 0, events }]);
      return n;
    };

    console.log(
      `append benchmark: ${seconds} s per side and cell in ${rounds} alternating rounds, durable PostgreSQL (fsync on), Node ${process.version}`,
    );
    console.log('events/s        writers   raw INSERT   event store   ratio');
    for (const [label, size] of [
      ['single', 1],
      ['batch of 10', 10],
    ] as const) {
      for (const writers of writerCounts) {
        const [rawRate, storeRate] = await compare(writers, rawInsert(size), storeAppend(size));
        const ratio = storeRate / rawRate;
        const target =
          label === 'single' ? (ratio >= 0.5 ? '  (target ≥ 0.5: PASS)' : '  (target ≥ 0.5: MISS)') : '';
        console.log(
          `${label.padEnd(15)} ${String(writers).padStart(7)} ${rawRate.toFixed(0).padStart(12)} ${storeRate
            .toFixed(0)
            .padStart(13)} ${ratio.toFixed(2).padStart(7)}${target}`,
        );
      }
    }
    await raw.end();
    await orm.close();
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
