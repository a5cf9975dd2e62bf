/**
 * Leadership transfer, rule by rule, after the Raft thesis §3.10 ("Leadership transfer
 * extension") and the flag it asks of RequestVote in §4.2.3 (a transfer vote must not be
 * refused for the "leader still alive" lease). Node `a` is the leader, or the target, or a voter.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  followerOf,
  heartbeat,
  heartbeatReply,
  leaderAtTerm1,
  MIN,
  makeNode,
  ticks,
  vote,
} from './election-fixtures.js';
import type { ElectionMessage, NodeId } from './messages.js';
import type { RaftElection, TransferResult } from './raft-election.js';

const timeoutNow = (from: NodeId, term: number): ElectionMessage => ({
  type: 'TimeoutNow',
  from,
  to: 'a',
  term,
});
const transferVote = (from: NodeId, term: number): ElectionMessage => ({
  type: 'RequestVote',
  from,
  to: 'a',
  term,
  preVote: false,
  transfer: true,
});

/** Leader `a` of term 1 that has just heard from the given followers. */
function leaderHearing(peers: NodeId[], options: { checkQuorum?: boolean } = {}): RaftElection {
  const n = leaderAtTerm1(options);
  for (const p of peers) n.step(heartbeatReply(p, 1));
  return n;
}

/** The target a transfer without a named one picks (the transfer is then given up). */
function pick(n: RaftElection): NodeId | null {
  const r = n.transferLeadership();
  ticks(n, MIN); // no new leader within the timeout: the transfer is aborted
  return r.accepted ? r.target : null;
}

function refusal(result: TransferResult): string {
  assert.equal(result.accepted, false, 'expected a refusal');
  return result.accepted ? '' : result.reason;
}

describe('§3.10 the prior leader', () => {
  test('stops taking new writes and sends TimeoutNow of its term to the target', () => {
    const n = leaderHearing(['b', 'c']);
    assert.equal(n.status().acceptingWrites, true);
    const r = n.transferLeadership('c');
    assert.ok(r.accepted);
    assert.equal(r.target, 'c');
    assert.deepEqual(r.output.messages, [{ type: 'TimeoutNow', from: 'a', to: 'c', term: 1 }]);
    assert.deepEqual(r.output.events, [{ kind: 'transfer', outcome: 'started', target: 'c', term: 1 }]);
    assert.equal(r.output.hardState, null, 'nothing to persist: a transfer is not durable state');
    const s = n.status();
    assert.deepEqual([s.role, s.transferTarget, s.acceptingWrites], ['leader', 'c', false]);
  });

  test('without a named target, picks the follower heard from without a break for the longest', () => {
    const n = leaderHearing(['c']);
    ticks(n, 2);
    n.step(heartbeatReply('b', 1));
    // b was heard from last, c for longer: c.
    assert.deepEqual(pick(n), 'c');
    // c falls silent for a minimum election timeout (a restart) and is back; b answered all along.
    for (let t = 0; t < MIN; t++) {
      n.step(heartbeatReply('b', 1));
      n.tick();
    }
    n.step(heartbeatReply('c', 1));
    assert.deepEqual(pick(n), 'b', 'a follower back from a silence is the last choice');
  });

  test('keeps heartbeating while it transfers, so the other followers do not time out', () => {
    const n = leaderHearing(['b', 'c']);
    n.transferLeadership('b');
    const beats = ticks(n, 3).flatMap((o) => o.messages.filter((m) => m.type === 'AppendEntries'));
    assert.deepEqual(
      beats.map((m) => m.to),
      ['b', 'c'],
    );
  });

  test('aborts after one minimum election timeout without a new leader, and leads on', () => {
    const n = leaderHearing(['b', 'c']);
    n.transferLeadership('b');
    // The other follower keeps answering, so CheckQuorum keeps it leader meanwhile.
    const early = ticks(n, MIN - 1);
    assert.ok(early.every((o) => o.events.every((e) => e.kind !== 'transfer')));
    assert.equal(n.status().acceptingWrites, false);
    assert.equal(n.ticksUntilNextAction(), 1, 'the abort is an action a sleeping runtime must wake for');
    n.step(heartbeatReply('c', 1));
    const out = n.tick();
    assert.deepEqual(
      out.events.filter((e) => e.kind === 'transfer'),
      [{ kind: 'transfer', outcome: 'aborted', target: 'b', term: 1 }],
    );
    const s = n.status();
    assert.deepEqual([s.role, s.term, s.transferTarget, s.acceptingWrites], ['leader', 1, null, true]);
    n.step(heartbeatReply('c', 1));
    assert.ok(n.transferLeadership('c').accepted, 'a new transfer may start once the last one is over');
  });

  test('grants the target its transfer vote despite its own lease, and steps down', () => {
    const n = leaderHearing(['b', 'c']);
    n.transferLeadership('b');
    const out = n.step(transferVote('b', 2));
    const s = n.status();
    assert.deepEqual(
      [s.role, s.term, s.votedFor, s.transferTarget, s.acceptingWrites],
      ['follower', 2, 'b', null, false],
    );
    assert.deepEqual(out.messages, [
      { type: 'RequestVoteReply', from: 'a', to: 'b', term: 2, preVote: false, granted: true },
    ]);
    assert.deepEqual(out.hardState, { term: 2, votedFor: 'b' });
  });

  test('losing its quorum while transferring ends the transfer with its leadership', () => {
    // b answers late in the first quorum window, so the check at MIN passes and b is recent.
    const n = leaderAtTerm1();
    ticks(n, MIN - 1);
    n.step(heartbeatReply('b', 1));
    ticks(n, 2);
    assert.ok(n.transferLeadership('b').accepted);
    // No one answers in the second window: the check at 2 * MIN fails before the transfer would abort.
    ticks(n, MIN - 1);
    assert.deepEqual([n.status().role, n.status().transferTarget], ['follower', null]);
  });
});

describe('refusals, each with its reason', () => {
  test('a follower refuses and names the leader to forward the request to', () => {
    const r = followerOf('b', 3).transferLeadership('c');
    assert.deepEqual(r, { accepted: false, reason: 'not leader', leader: 'b' });
    assert.deepEqual(makeNode().transferLeadership(), {
      accepted: false,
      reason: 'not leader',
      leader: null,
    });
  });

  test('a target that is no voter, or the leader itself', () => {
    const n = leaderHearing(['b', 'c']);
    assert.equal(refusal(n.transferLeadership('z')), 'unknown target');
    assert.equal(refusal(n.transferLeadership('a')), 'target is this node');
  });

  test('a target not heard from within the last minimum election timeout', () => {
    const n = leaderHearing(['b'], { checkQuorum: false });
    assert.equal(refusal(n.transferLeadership('c')), 'target not recently heard from');
    ticks(n, MIN - 1);
    assert.ok(n.transferLeadership('b').accepted, 'heard MIN - 1 ticks ago is recent');
    const later = leaderHearing(['b'], { checkQuorum: false });
    ticks(later, MIN);
    assert.equal(refusal(later.transferLeadership('b')), 'target not recently heard from');
    assert.equal(refusal(later.transferLeadership()), 'no follower recently heard from');
  });

  test('what was heard before this node became leader does not count', () => {
    const n = leaderAtTerm1();
    assert.equal(refusal(n.transferLeadership()), 'no follower recently heard from');
  });

  test('a second transfer while one is in progress, to the same target or another', () => {
    const n = leaderHearing(['b', 'c']);
    assert.ok(n.transferLeadership('b').accepted);
    assert.equal(refusal(n.transferLeadership('b')), 'transfer in progress');
    assert.equal(refusal(n.transferLeadership('c')), 'transfer in progress');
    assert.equal(n.status().transferTarget, 'b');
  });
});

describe('§3.10 the target', () => {
  test('campaigns at once in term + 1, skipping PreVote, with the transfer flag on its votes', () => {
    const n = followerOf('b', 3);
    const out = n.step(timeoutNow('b', 3));
    const s = n.status();
    assert.deepEqual([s.role, s.term, s.votedFor, s.leader], ['candidate', 4, 'a', null]);
    assert.deepEqual(out.hardState, { term: 4, votedFor: 'a' }, 'its own vote is persisted before it asks');
    assert.deepEqual(out.messages, [
      { type: 'RequestVote', from: 'a', to: 'b', term: 4, preVote: false, transfer: true },
      { type: 'RequestVote', from: 'a', to: 'c', term: 4, preVote: false, transfer: true },
    ]);
    assert.ok(
      out.events.some(
        (e) => e.kind === 'transition' && e.to === 'candidate' && e.reason === 'leadership transfer',
      ),
    );
  });

  test('a stale TimeoutNow, from the leader of an older term, is ignored', () => {
    const n = followerOf('c', 5);
    const out = n.step(timeoutNow('b', 4));
    assert.deepEqual([out.messages, out.events, out.hardState], [[], [], null]);
    assert.deepEqual([n.status().role, n.status().term], ['follower', 5]);
  });

  test('a TimeoutNow of a newer term: it follows that term first, then campaigns past it', () => {
    const n = followerOf('c', 2);
    n.step(timeoutNow('b', 6));
    assert.deepEqual([n.status().role, n.status().term, n.status().votedFor], ['candidate', 7, 'a']);
  });

  test('a node that cannot write, or is not a follower, does not campaign on it', () => {
    const ineligible = followerOf('b', 3);
    ineligible.setEligible(false);
    const out = ineligible.step(timeoutNow('b', 3));
    assert.deepEqual(out.events, [
      { kind: 'timeout now', from: 'b', term: 3, campaigned: false, reason: 'cannot write' },
    ]);
    assert.equal(ineligible.status().role, 'follower');

    const preCandidate = makeNode();
    ticks(preCandidate, MIN);
    assert.equal(preCandidate.status().role, 'pre-candidate');
    preCandidate.step(timeoutNow('b', 0));
    assert.deepEqual([preCandidate.status().role, preCandidate.status().term], ['pre-candidate', 0]);
  });

  test('a transfer campaign that fails falls back to ordinary elections, with PreVote', () => {
    const n = followerOf('b', 3);
    n.step(timeoutNow('b', 3));
    const out = ticks(n, MIN).flatMap((o) => o.messages);
    assert.deepEqual(
      out.map((m) => m.type === 'RequestVote' && [m.term, m.preVote, m.transfer ?? false]),
      [
        [5, true, false],
        [5, true, false],
      ],
    );
  });
});

describe('§4.2.3 voters', () => {
  test('within the CheckQuorum lease, refuse an ordinary vote but grant a transfer vote', () => {
    const ordinary = followerOf('b', 3);
    const refused = ordinary.step(vote('c', 4));
    assert.deepEqual([refused.messages, ordinary.status().term], [[], 3]);

    const n = followerOf('b', 3);
    const out = n.step(transferVote('c', 4));
    assert.deepEqual([n.status().term, n.status().votedFor, n.status().leader], [4, 'c', null]);
    assert.deepEqual(out.messages, [
      { type: 'RequestVoteReply', from: 'a', to: 'c', term: 4, preVote: false, granted: true },
    ]);
    assert.ok(out.events.some((e) => e.kind === 'vote' && e.granted && e.reason === 'leadership transfer'));
  });

  test('the flag only skips the lease: one vote per term still holds', () => {
    const n = followerOf('b', 3);
    n.step(transferVote('c', 4));
    const out = n.step(transferVote('b', 4));
    assert.deepEqual(out.messages, [
      { type: 'RequestVoteReply', from: 'a', to: 'b', term: 4, preVote: false, granted: false },
    ]);
    assert.equal(n.status().votedFor, 'c');
  });

  test('a stale transfer vote, from an older term, is refused and changes nothing', () => {
    const n = followerOf('b', 5);
    const out = n.step(transferVote('c', 4));
    assert.deepEqual([out.messages, out.hardState], [[], null]);
    assert.deepEqual([n.status().term, n.status().votedFor, n.status().leader], [5, null, 'b']);
  });

  test('a transfer vote of the current term does not unseat a known leader', () => {
    const n = followerOf('b', 4);
    const out = n.step(transferVote('c', 4));
    assert.equal(out.messages[0]?.type === 'RequestVoteReply' && out.messages[0].granted, false);
  });

  test('a pre-vote with the flag gets no exemption: transfers never pre-vote', () => {
    const n = followerOf('b', 3);
    const out = n.step({ type: 'RequestVote', from: 'c', to: 'a', term: 4, preVote: true, transfer: true });
    assert.deepEqual(
      out.messages.map((m) => m.type === 'RequestVoteReply' && m.granted),
      [false],
      'refused, as any pre-vote within the lease',
    );
    assert.ok(out.events.some((e) => e.kind === 'vote' && !e.granted && e.reason.includes('lease')));
  });

  test('a heartbeat from the new leader reaches the old one, which follows', () => {
    const n = leaderHearing(['b', 'c']);
    n.transferLeadership('b');
    n.step(heartbeat('b', 2));
    const s = n.status();
    assert.deepEqual([s.role, s.term, s.leader, s.transferTarget], ['follower', 2, 'b', null]);
  });
});
