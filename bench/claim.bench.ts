/**
 * `npm run bench:claim`: a warmed pooled connection's first real fence claim and first append —
 * what a newly elected leader runs first — with the warm-up a node's start connections get
 * (START_REHEARSALS rehearsals) against one rehearsal (the warm-up before 2026-12-03, and still
 * that of a connection opened later), in the same run on the same durable PostgreSQL, on fresh
 * connections, the two alternating round by round.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../nodes/store/database.js';
import { appendBatchCall, type Fence } from '../nodes/store/event-log.js';
import { START_REHEARSALS, warmConnection } from '../nodes/store/warm-connection.js';
import { startTestPostgres } from '../test-support/postgres.js';
import { summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '3' },
  },
});
const connections = Number(values.connections);
const rounds = Number(values.rounds);

const postgres = await startTestPostgres();
const url = await postgres.createDatabase();
const orm = await openDatabase(url);
let term = 0;

/** One fresh connection, warmed `runs` times: its first claim's and first append's ms. */
async function firstClaimAndAppend(runs: number): Promise<{ claim: number; append: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await warmConnection(client, runs);
    term++;
    const fence: Fence = { term, nodeId: 'n1' };
    const elected = appendBatchCall([
      {
        fence,
        appends: [
          {
            stream: 'cluster',
            expectedVersion: 'any',
            events: [{ type: 'LeaderElected', data: { nodeId: 'n1', term, url: 'http://n1' } }],
          },
        ],
        options: {},
      },
    ]);
    let started = performance.now();
    await client.query('select claim_fence($1::jsonb, $2::jsonb)', [
      JSON.stringify({ id: 'n1', url: 'http://n1', term }),
      elected.appends,
    ]);
    const claim = performance.now() - started;
    const id = randomUUID();
    const write = appendBatchCall([
      {
        fence,
        appends: [
          {
            stream: `task-${id}`,
            expectedVersion: 0,
            events: [
              {
                type: 'TaskCreated',
                data: { id, title: 'bench', description: null, status: 'TODO', createdBy: 'n1' },
              },
            ],
          },
        ],
        options: { idempotencyKey: randomUUID() },
      },
    ]);
    started = performance.now();
    await client.query(`select append_batch($1::jsonb, '{}'::bytea[])`, [write.appends]);
    return { claim, append: performance.now() - started };
  } finally {
    await client.end();
  }
}

const samples = new Map<number, { claim: number[]; append: number[] }>([
  [1, { claim: [], append: [] }],
  [START_REHEARSALS, { claim: [], append: [] }],
]);
try {
  for (let r = 0; r < rounds; r++) {
    for (const [runs, into] of samples) {
      for (let i = 0; i < connections; i++) {
        const { claim, append } = await firstClaimAndAppend(runs);
        into.claim.push(claim);
        into.append.push(append);
      }
    }
  }
} finally {
  await orm.close();
  await postgres.stop();
}

const row = (xs: number[]) => {
  const s = summarize(xs);
  return `${s.p50.toFixed(2).padStart(6)} ${s.p90.toFixed(2).padStart(6)}`;
};
console.log(
  `a fresh connection's first claim and first append (${rounds * connections} connections each, ms)`,
);
console.log('  warmed by                    claim p50    p90   append p50    p90');
for (const [runs, s] of samples) {
  console.log(
    `  ${`${runs} rehearsal${runs === 1 ? '' : 's'}`.padEnd(26)} ${row(s.claim)}       ${row(s.append)}`,
  );
}
const once = samples.get(1);
const start = samples.get(START_REHEARSALS);
if (once && start) {
  const ratio = (a: number[], b: number[]) => (summarize(a).p50 / summarize(b).p50).toFixed(2);
  console.log(
    `  ${START_REHEARSALS} ÷ 1 at p50: claim ${ratio(start.claim, once.claim)}, append ${ratio(start.append, once.append)}`,
  );
}
