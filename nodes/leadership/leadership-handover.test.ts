/**
 * The transferLeadership mutation on a node, over stand-ins of the election, the fence keeper and
 * the fence: what is refused before anything starts, how each way a transfer can end is answered,
 * and that a completed transfer is answered only once the new leader holds the fence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ApiError } from '../../api/errors.js';
import type { TransferOutcome } from '../election/election-service.js';
import type { ElectionStatus } from '../election/raft-election.js';
import type { Fence } from '../store/event-store.js';
import { LeadershipHandover } from './leadership-handover.js';

const LEADER: ElectionStatus = {
  id: 'n1',
  role: 'leader',
  term: 4,
  votedFor: 'n1',
  leader: 'n1',
  transferTarget: null,
  acceptingWrites: true,
};

function handover(options: {
  status?: ElectionStatus;
  outcome?: TransferOutcome;
  fences?: Fence[];
  logChanged?: (limitMs: number) => Promise<void>;
}) {
  const asked: (string | undefined)[] = [];
  const fences = [...(options.fences ?? [])];
  let reads = 0;
  const subject = new LeadershipHandover({
    election: {
      status: () => options.status ?? LEADER,
      transferLeadership: async (to) => {
        asked.push(to);
        return options.outcome ?? { kind: 'aborted', target: 'n2' };
      },
    },
    keeper: { handOver: (transfer) => transfer() },
    fence: {
      current: async () => {
        reads++;
        return fences.length > 1 ? (fences.shift() as Fence) : (fences[0] ?? null);
      },
    },
    logChanged: options.logChanged ?? (async () => {}),
    urls: { lookup: async (id) => `http://${id}` },
    voters: ['n1', 'n2', 'n3'],
    electionTimeoutMs: { min: 150, max: 300 },
    logger: pino({ level: 'silent' }),
  });
  return { subject, asked, reads: () => reads };
}

const refusedWith = (code: string, message?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return true;
};

test('an unknown node or the leader itself is BAD_USER_INPUT, and no transfer starts', async () => {
  const { subject, asked } = handover({});
  await assert.rejects(subject.transferLeadership('n9'), refusedWith('BAD_USER_INPUT', /no node n9/));
  await assert.rejects(subject.transferLeadership('n1'), refusedWith('BAD_USER_INPUT', /leader already/));
  assert.deepEqual(asked, []);
});

test('a follower refuses NOT_LEADER naming the leader; with none known, NO_LEADER', async () => {
  const follower = { ...LEADER, role: 'follower' as const, leader: 'n2', acceptingWrites: false };
  const { subject } = handover({ status: follower });
  await assert.rejects(subject.transferLeadership('n3'), (error: ApiError) => {
    assert.equal(error.code, 'NOT_LEADER');
    assert.deepEqual(error.extensions.leader, { id: 'n2', url: 'http://n2' });
    return true;
  });
  const { subject: alone } = handover({ status: { ...follower, leader: null } });
  await assert.rejects(alone.transferLeadership(), refusedWith('NO_LEADER'));
});

test('each way a transfer can fail has its code', async () => {
  const cases: Array<[TransferOutcome, string]> = [
    [{ kind: 'aborted', target: 'n2' }, 'TRANSFER_TIMEOUT'],
    [{ kind: 'unresolved', target: 'n2' }, 'TRANSFER_TIMEOUT'],
    [{ kind: 'refused', reason: 'target not recently heard from', leader: 'n1' }, 'BAD_USER_INPUT'],
    [{ kind: 'refused', reason: 'no follower recently heard from', leader: 'n1' }, 'BAD_USER_INPUT'],
    [{ kind: 'refused', reason: 'transfer in progress', leader: 'n1' }, 'CONFLICT'],
    [{ kind: 'refused', reason: 'not leader', leader: 'n3' }, 'NOT_LEADER'],
  ];
  for (const [outcome, code] of cases) {
    const { subject } = handover({ outcome });
    await assert.rejects(subject.transferLeadership('n2'), refusedWith(code), outcome.kind);
  }
});

test('a completed transfer is answered once the fence names the new leader', async () => {
  const { subject, asked } = handover({
    outcome: { kind: 'completed', leader: 'n2', term: 5, target: 'n2' },
    // The old fence twice (the new leader has not claimed yet), then the new one.
    fences: [
      { term: 4, nodeId: 'n1' },
      { term: 4, nodeId: 'n1' },
      { term: 5, nodeId: 'n2' },
    ],
  });
  const change = await subject.transferLeadership();
  assert.deepEqual(asked, [undefined]);
  assert.equal(change.term, 5);
  assert.deepEqual(
    { id: change.leader.id, url: change.leader.url, role: change.leader.role, term: change.leader.term },
    { id: 'n2', url: 'http://n2', role: 'LEADER', term: 5 },
  );
});

test('the old leader reads the fence again at each change of the log, not on a timer', async () => {
  const changes: Array<{ limitMs: number; notify: () => void }> = [];
  const { subject, reads } = handover({
    outcome: { kind: 'completed', leader: 'n2', term: 5, target: 'n2' },
    fences: [
      { term: 4, nodeId: 'n1' },
      { term: 5, nodeId: 'n2' },
    ],
    logChanged: (limitMs) => new Promise<void>((notify) => changes.push({ limitMs, notify })),
  });
  let answered = false;
  const change = subject.transferLeadership().then((c) => {
    answered = true;
    return c;
  });
  await new Promise((r) => setTimeout(r, 50));
  // One read (the old fence), then a wait on the log: no second read while nothing changed.
  assert.equal(reads(), 1);
  assert.equal(answered, false);
  assert.equal(changes.length, 1);
  assert.ok((changes[0]?.limitMs ?? 0) >= 50, 'a lost notification is bounded by a recheck, not a busy poll');
  changes[0]?.notify(); // the claim's LeaderElected committed
  assert.equal((await change).leader.id, 'n2');
  assert.equal(reads(), 2);
});
