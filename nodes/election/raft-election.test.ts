/**
 * Table-driven tests of every election rule: Raft's Figure 2 (election part), PreVote and
 * CheckQuorum. Each case builds a node in a known state, feeds it one input and checks the
 * output and the state after it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  allMessages,
  followerOf,
  HB,
  heartbeat,
  heartbeatReply,
  leaderAtTerm1,
  MAX,
  MIN,
  makeNode,
  ticks,
  vote,
  voteReply,
} from './election-fixtures.js';
import type { ElectionMessage } from './messages.js';
import { type HardState, type Output, RaftElection, type Role } from './raft-election.js';

describe('follower', () => {
  test('stays follower while the election timeout has not elapsed', () => {
    const n = makeNode();
    const outs = ticks(n, MIN - 1);
    assert.equal(n.status().role, 'follower');
    assert.equal(allMessages(outs).length, 0);
  });

  test('on election timeout with PreVote: pre-candidate, term unchanged, PreVote(term+1) to every peer', () => {
    const n = makeNode({ stored: { term: 4, votedFor: null } });
    const outs = ticks(n, MIN);
    const last = outs.at(-1) as Output;
    assert.equal(n.status().role, 'pre-candidate');
    assert.equal(n.status().term, 4);
    assert.equal(last.hardState, null, 'a pre-vote persists nothing');
    assert.deepEqual(
      last.messages.map((m) => [m.type, m.to, m.term, m.type === 'RequestVote' && m.preVote]),
      [
        ['RequestVote', 'b', 5, true],
        ['RequestVote', 'c', 5, true],
      ],
    );
  });

  test('on election timeout without PreVote: candidate, term+1, votes for itself, persists first', () => {
    const n = makeNode({ preVote: false, stored: { term: 4, votedFor: 'b' } });
    const last = ticks(n, MIN).at(-1) as Output;
    assert.equal(n.status().role, 'candidate');
    assert.deepEqual(last.hardState, { term: 5, votedFor: 'a' });
    assert.deepEqual(
      last.messages.map((m) => [m.type, m.to, m.term]),
      [
        ['RequestVote', 'b', 5],
        ['RequestVote', 'c', 5],
      ],
    );
  });

  test('the election timeout is drawn from the injected randomness on every reset', () => {
    const drawn: [number, number][] = [];
    const n = new RaftElection({
      id: 'a',
      voters: ['a', 'b', 'c'],
      electionTimeoutMin: MIN,
      electionTimeoutMax: MAX,
      heartbeatInterval: HB,
      preVote: true,
      checkQuorum: true,
      randomInt: (min, max) => {
        drawn.push([min, max]);
        return 15;
      },
    });
    ticks(n, 14);
    assert.equal(n.status().role, 'follower');
    n.tick();
    assert.equal(n.status().role, 'pre-candidate');
    assert.deepEqual(drawn, [
      [MIN, MAX],
      [MIN, MAX],
    ]);
  });

  const voteCases: {
    name: string;
    stored: HardState;
    message: ElectionMessage;
    granted: boolean;
    after: HardState;
    replyTerm: number;
    reason: RegExp;
  }[] = [
    {
      name: 'grants the first RequestVote of a higher term, adopting the term',
      stored: { term: 2, votedFor: null },
      message: vote('b', 3),
      granted: true,
      after: { term: 3, votedFor: 'b' },
      replyTerm: 3,
      reason: /first request/,
    },
    {
      name: 'grants the first RequestVote of its own term',
      stored: { term: 3, votedFor: null },
      message: vote('b', 3),
      granted: true,
      after: { term: 3, votedFor: 'b' },
      replyTerm: 3,
      reason: /first request/,
    },
    {
      name: 'grants again to the candidate it already voted for (a duplicate request)',
      stored: { term: 3, votedFor: 'b' },
      message: vote('b', 3),
      granted: true,
      after: { term: 3, votedFor: 'b' },
      replyTerm: 3,
      reason: /first request/,
    },
    {
      name: 'refuses a second candidate in the same term',
      stored: { term: 3, votedFor: 'c' },
      message: vote('b', 3),
      granted: false,
      after: { term: 3, votedFor: 'c' },
      replyTerm: 3,
      reason: /already voted for c/,
    },
    {
      name: 'grants a PreVote for a higher term without changing its term or vote',
      stored: { term: 3, votedFor: 'c' },
      message: vote('b', 4, true),
      granted: true,
      after: { term: 3, votedFor: 'c' },
      replyTerm: 4,
      reason: /no live leader/,
    },
    {
      name: 'refuses a PreVote for its own term when it voted for someone else',
      stored: { term: 3, votedFor: 'c' },
      message: vote('b', 3, true),
      granted: false,
      after: { term: 3, votedFor: 'c' },
      replyTerm: 3,
      reason: /already voted for c/,
    },
  ];
  for (const c of voteCases) {
    test(c.name, () => {
      const n = makeNode({ stored: c.stored });
      const out = n.step(c.message);
      assert.deepEqual(n.hardState(), c.after);
      const changed = c.after.term !== c.stored.term || c.after.votedFor !== c.stored.votedFor;
      // Persist-before-reply: a reply that depends on a new term or vote comes in the same output
      // as the state to persist, and the adapter writes that state before sending.
      assert.deepEqual(out.hardState, changed ? c.after : null);
      assert.equal(out.messages.length, 1);
      const reply = out.messages[0];
      assert.ok(reply?.type === 'RequestVoteReply');
      assert.equal(reply.granted, c.granted);
      assert.equal(reply.term, c.replyTerm);
      assert.equal(reply.preVote, c.message.type === 'RequestVote' && c.message.preVote);
      const event = out.events.find((e) => e.kind === 'vote');
      assert.ok(event?.kind === 'vote');
      assert.equal(event.granted, c.granted);
      assert.match(event.reason, c.reason);
    });
  }

  test('refuses a stale RequestVote silently, and answers a stale PreVote with its term', () => {
    const n = makeNode({ stored: { term: 5, votedFor: null } });
    const real = n.step(vote('b', 4));
    assert.equal(real.messages.length, 0);
    assert.match(JSON.stringify(real.events), /stale term 4 < 5/);
    const pre = n.step(vote('b', 5, true));
    // PreVote for term 5 is not stale at term 5 (equal) — a node at term 5 with no vote grants it.
    assert.equal(pre.messages[0]?.type === 'RequestVoteReply' && pre.messages[0].granted, true);
    const stalePre = n.step(vote('b', 4, true));
    assert.deepEqual(stalePre.messages, [
      { type: 'RequestVoteReply', from: 'a', to: 'b', term: 5, preVote: true, granted: false },
    ]);
    assert.equal(n.status().term, 5);
  });

  test('a heartbeat of its term resets the election timer and names the leader', () => {
    const n = followerOf('b', 1);
    for (let i = 0; i < 5; i++) {
      ticks(n, MIN - 1);
      const out = n.step(heartbeat('b', 1));
      assert.deepEqual(out.messages, [
        { type: 'AppendEntriesReply', from: 'a', to: 'b', term: 1, success: true },
      ]);
    }
    assert.deepEqual([n.status().role, n.status().leader], ['follower', 'b']);
  });

  test('a heartbeat of a higher term: adopts the term, clears the vote, follows the sender', () => {
    const n = makeNode({ stored: { term: 2, votedFor: 'c' } });
    const out = n.step(heartbeat('b', 7));
    assert.deepEqual(out.hardState, { term: 7, votedFor: null });
    assert.deepEqual([n.status().role, n.status().leader, n.status().term], ['follower', 'b', 7]);
    assert.ok(out.events.some((e) => e.kind === 'leader' && e.leader === 'b'));
  });

  test('a stale heartbeat is answered with the current term so the old leader steps down', () => {
    const n = makeNode({ stored: { term: 5, votedFor: null } });
    const out = n.step(heartbeat('b', 3));
    assert.deepEqual(out.messages, [
      { type: 'AppendEntriesReply', from: 'a', to: 'b', term: 5, success: false },
    ]);
    assert.equal(n.status().leader, null);
  });

  test('ignores messages from unknown nodes, to other nodes, or from itself', () => {
    const n = makeNode();
    for (const m of [
      { ...vote('z', 9) },
      { ...vote('b', 9), to: 'c' },
      { ...vote('a', 9) },
      { ...heartbeat('z', 9) },
    ]) {
      const out = n.step(m);
      assert.deepEqual([out.messages.length, out.events.length, out.hardState], [0, 0, null]);
    }
    assert.equal(n.status().term, 0);
  });
});

describe('CheckQuorum lease (followers)', () => {
  for (const preVote of [true, false]) {
    test(`a follower that heard its leader within the minimum timeout refuses a higher-term ${preVote ? 'PreVote (and says so)' : 'RequestVote (silently)'}`, () => {
      const n = followerOf('b', 2);
      ticks(n, MIN - 1);
      const out = n.step(vote('c', 3, preVote));
      assert.deepEqual(
        out.messages.map((m) => m.type === 'RequestVoteReply' && [m.to, m.term, m.preVote, m.granted]),
        preVote ? [['c', 2, true, false]] : [],
        'a pre-candidate learns of the refusal (and our term); a candidate does not',
      );
      assert.deepEqual(n.hardState(), { term: 2, votedFor: null });
      assert.match(JSON.stringify(out.events), /lease/);
    });
  }

  test('once the lease ran out, it grants the PreVote', () => {
    const n = followerOf('b', 2, {});
    // timeout MIN: after MIN ticks it campaigns itself; use a longer timeout to observe the gap
    const m = makeNode({ timeout: MAX });
    m.step(heartbeat('b', 2));
    ticks(m, MIN);
    const out = m.step(vote('c', 3, true));
    assert.equal(out.messages[0]?.type === 'RequestVoteReply' && out.messages[0].granted, true);
    assert.equal(n.status().term, 2);
  });

  test('without CheckQuorum there is no lease: a higher-term RequestVote is granted at once', () => {
    const n = followerOf('b', 2, { checkQuorum: false });
    const out = n.step(vote('c', 3));
    assert.equal(out.messages[0]?.type === 'RequestVoteReply' && out.messages[0].granted, true);
    assert.deepEqual(n.hardState(), { term: 3, votedFor: 'c' });
  });
});

describe('pre-candidate', () => {
  const preCandidate = (): RaftElection => {
    const n = makeNode({ stored: { term: 1, votedFor: null } });
    ticks(n, MIN);
    assert.equal(n.status().role, 'pre-candidate');
    return n;
  };

  test('a majority of PreVotes starts the real election: term+1, self-vote persisted, RequestVote out', () => {
    const n = preCandidate();
    const out = n.step(voteReply('b', 2, true, true));
    assert.equal(n.status().role, 'candidate');
    assert.deepEqual(out.hardState, { term: 2, votedFor: 'a' });
    assert.deepEqual(
      out.messages.map((m) => [m.type, m.to, m.term, m.type === 'RequestVote' && m.preVote]),
      [
        ['RequestVote', 'b', 2, false],
        ['RequestVote', 'c', 2, false],
      ],
    );
  });

  test('a majority of refusals returns it to follower without touching the term', () => {
    const n = makeNode({ voters: ['a', 'b', 'c', 'd', 'e'], stored: { term: 1, votedFor: null } });
    ticks(n, MIN);
    for (const p of ['b', 'c']) n.step(voteReply(p, 1, false, true));
    assert.equal(n.status().role, 'pre-candidate');
    n.step(voteReply('d', 1, false, true));
    assert.deepEqual([n.status().role, n.status().term], ['follower', 1]);
  });

  test('a duplicated grant counts once', () => {
    const n = makeNode({ voters: ['a', 'b', 'c', 'd', 'e'], stored: { term: 1, votedFor: null } });
    ticks(n, MIN);
    n.step(voteReply('b', 2, true, true));
    n.step(voteReply('b', 2, true, true));
    assert.equal(n.status().role, 'pre-candidate');
    n.step(voteReply('c', 2, true, true));
    assert.equal(n.status().role, 'candidate');
  });

  test('a refusal carrying a higher term makes it a follower of that term', () => {
    const n = preCandidate();
    const out = n.step(voteReply('b', 6, false, true));
    assert.deepEqual([n.status().role, n.status().term], ['follower', 6]);
    assert.deepEqual(out.hardState, { term: 6, votedFor: null });
  });

  test('a heartbeat of its own term makes it a follower of that leader', () => {
    const n = preCandidate();
    n.step(heartbeat('b', 1));
    assert.deepEqual([n.status().role, n.status().leader], ['follower', 'b']);
  });

  test('times out again into a new pre-vote round', () => {
    const n = preCandidate();
    const last = ticks(n, MIN).at(-1) as Output;
    assert.equal(n.status().role, 'pre-candidate');
    assert.equal(last.messages.length, 2);
    assert.equal(n.status().term, 1);
  });
});

describe('candidate', () => {
  const candidate = (): RaftElection => {
    const n = makeNode({ preVote: false, stored: { term: 1, votedFor: null } });
    ticks(n, MIN);
    assert.deepEqual([n.status().role, n.status().term], ['candidate', 2]);
    return n;
  };

  test('a majority of votes makes it leader, which heartbeats every peer at once', () => {
    const n = candidate();
    const out = n.step(voteReply('b', 2, true));
    assert.equal(n.status().role, 'leader');
    assert.equal(n.status().leader, 'a');
    assert.deepEqual(
      out.messages.map((m) => [m.type, m.to, m.term]),
      [
        ['AppendEntries', 'b', 2],
        ['AppendEntries', 'c', 2],
      ],
    );
    assert.ok(
      out.events.some((e) => e.kind === 'transition' && e.to === 'leader' && e.reason === 'election won'),
    );
  });

  test('stale vote replies (an older term) do not count', () => {
    const n = candidate();
    n.step(voteReply('b', 1, true));
    assert.equal(n.status().role, 'candidate');
  });

  test('a reply with a higher term makes it a follower of that term', () => {
    const n = candidate();
    n.step(voteReply('b', 9, false));
    assert.deepEqual([n.status().role, n.status().term, n.status().votedFor], ['follower', 9, null]);
  });

  test('refuses other candidates of its term: it voted for itself', () => {
    const n = candidate();
    const out = n.step(vote('b', 2));
    assert.equal(out.messages[0]?.type === 'RequestVoteReply' && out.messages[0].granted, false);
  });

  test('a heartbeat of its term makes it a follower', () => {
    const n = candidate();
    n.step(heartbeat('c', 2));
    assert.deepEqual([n.status().role, n.status().leader, n.status().votedFor], ['follower', 'c', 'a']);
  });

  test('a split vote times out into a new election of a higher term', () => {
    const n = candidate();
    n.step(voteReply('b', 2, false));
    n.step(voteReply('c', 2, false));
    assert.equal(n.status().role, 'follower', 'a majority refused');
    ticks(n, MIN);
    assert.deepEqual([n.status().role, n.status().term], ['candidate', 3]);
  });
});

describe('leader', () => {
  test('heartbeats every heartbeat interval', () => {
    const n = leaderAtTerm1({ checkQuorum: false });
    const outs = ticks(n, HB * 4);
    const beats = allMessages(outs).filter((m) => m.type === 'AppendEntries');
    assert.equal(beats.length, 4 * 2);
  });

  test('CheckQuorum: with no answers from a majority within the minimum timeout it steps down', () => {
    const n = leaderAtTerm1();
    const outs = ticks(n, MIN);
    assert.equal(n.status().role, 'follower');
    assert.equal(n.status().term, 1);
    assert.ok(outs.some((o) => o.events.some((e) => e.kind === 'transition' && e.reason === 'lost quorum')));
  });

  test('CheckQuorum: answers from a majority keep it leader', () => {
    const n = leaderAtTerm1();
    for (let round = 0; round < 10; round++) {
      n.step(heartbeatReply('b', 1));
      ticks(n, MIN);
    }
    assert.equal(n.status().role, 'leader');
  });

  test('without CheckQuorum a silent cluster does not depose it', () => {
    const n = leaderAtTerm1({ checkQuorum: false });
    ticks(n, MAX * 5);
    assert.equal(n.status().role, 'leader');
  });

  test('steps down on a reply carrying a higher term', () => {
    const n = leaderAtTerm1();
    const out = n.step(heartbeatReply('c', 4, false));
    assert.deepEqual([n.status().role, n.status().term, n.status().leader], ['follower', 4, null]);
    assert.deepEqual(out.hardState, { term: 4, votedFor: null });
  });

  test('steps down on a heartbeat of a higher term and follows its sender', () => {
    const n = leaderAtTerm1();
    n.step(heartbeat('b', 3));
    assert.deepEqual([n.status().role, n.status().leader], ['follower', 'b']);
  });

  test('told by the write fence of a higher term, it adopts the term and steps down', () => {
    const n = leaderAtTerm1();
    const out = n.observeTerm(5);
    assert.deepEqual([n.status().role, n.status().term, n.status().leader], ['follower', 5, null]);
    assert.deepEqual(out.hardState, { term: 5, votedFor: null });
    const again = n.observeTerm(3);
    assert.deepEqual([again.hardState, again.events.length, n.status().term], [null, 0, 5]);
  });

  test('told that its own term is fenced by another node, it steps down without changing term', () => {
    const n = leaderAtTerm1();
    const out = n.observeTerm(1);
    assert.deepEqual([n.status().role, n.status().term], ['follower', 1]);
    assert.ok(out.events.some((e) => e.kind === 'transition' && e.reason === 'fence lost'));
  });

  test('within its lease it ignores a higher-term RequestVote (a partitioned node cannot depose it)', () => {
    const n = leaderAtTerm1();
    const out = n.step(vote('c', 5));
    assert.deepEqual([n.status().role, n.status().term, out.messages.length], ['leader', 1, 0]);
  });
});

describe('eligibility (a node that cannot reach the database)', () => {
  test('an ineligible leader steps down at once, term kept, leader forgotten', () => {
    const n = leaderAtTerm1();
    const out = n.setEligible(false);
    assert.deepEqual([n.status().role, n.status().term, n.status().leader], ['follower', 1, null]);
    assert.ok(out.events.some((e) => e.kind === 'transition' && e.reason === 'cannot write'));
    assert.equal(out.hardState, null, 'nothing to persist: term and vote unchanged');
    // And it sends no more heartbeats.
    assert.deepEqual(allMessages(ticks(n, HB * 2)), []);
  });

  test('an ineligible pre-candidate steps down too', () => {
    const n = makeNode();
    ticks(n, MIN);
    assert.equal(n.status().role, 'pre-candidate');
    n.setEligible(false);
    assert.equal(n.status().role, 'follower');
  });

  test('an ineligible follower never campaigns, forgets a silent leader, and still votes', () => {
    const n = followerOf('b', 2);
    n.setEligible(false);
    const outs = ticks(n, MAX * 5);
    assert.deepEqual(allMessages(outs), [], 'no PreVote, no RequestVote');
    assert.deepEqual([n.status().role, n.status().term, n.status().leader], ['follower', 2, null]);
    // Out of the lease (no leader known): it grants a PreVote and then the vote.
    const pre = n.step(vote('c', 3, true));
    assert.deepEqual(
      pre.messages.map((m) => m.type === 'RequestVoteReply' && m.granted),
      [true],
    );
    const real = n.step(vote('c', 3));
    assert.deepEqual(
      real.messages.map((m) => m.type === 'RequestVoteReply' && m.granted),
      [true],
    );
    assert.deepEqual(real.hardState, { term: 3, votedFor: 'c' });
  });

  test('eligible again, it campaigns on its next timeout', () => {
    const n = makeNode();
    n.setEligible(false);
    ticks(n, MAX * 2);
    assert.equal(n.status().role, 'follower');
    n.setEligible(true);
    ticks(n, MAX);
    assert.equal(n.status().role, 'pre-candidate');
  });
});

describe('whole-cluster rules', () => {
  test('a single-node cluster elects itself on its first timeout', () => {
    const n = makeNode({ voters: ['a'] });
    ticks(n, MIN);
    assert.deepEqual([n.status().role, n.status().term, n.status().leader], ['leader', 1, 'a']);
  });

  test('a restarted node keeps its term and vote from stable storage', () => {
    const before = makeNode();
    const out = before.step(vote('b', 3));
    const restarted = makeNode({ stored: out.hardState as HardState });
    assert.deepEqual(restarted.status(), {
      id: 'a',
      role: 'follower',
      term: 3,
      votedFor: 'b',
      leader: null,
      transferTarget: null,
      acceptingWrites: false,
    });
    const second = restarted.step(vote('c', 3));
    assert.equal(second.messages[0]?.type === 'RequestVoteReply' && second.messages[0].granted, false);
  });

  test('every transition is reported with from, to, term and reason', () => {
    const n = makeNode();
    const events = [...ticks(n, MIN), n.step(voteReply('b', 1, true, true)), n.step(voteReply('b', 1, true))]
      .flatMap((o) => o.events)
      .filter((e) => e.kind === 'transition')
      .map((e) => (e.kind === 'transition' ? [e.from, e.to, e.term, e.reason] : []));
    assert.deepEqual(events, [
      ['follower', 'pre-candidate', 0, 'election timeout'],
      ['pre-candidate', 'candidate', 1, 'pre-vote won'],
      ['candidate', 'leader', 1, 'election won'],
    ] satisfies [Role, Role, number, string][]);
  });

  test('rejects a configuration that cannot work', () => {
    const base = { id: 'a', voters: ['a', 'b'], preVote: true, checkQuorum: true, randomInt: () => 10 };
    assert.throws(
      () =>
        new RaftElection({ ...base, electionTimeoutMin: 10, electionTimeoutMax: 5, heartbeatInterval: 1 }),
      /electionTimeoutMax/,
    );
    assert.throws(
      () =>
        new RaftElection({ ...base, electionTimeoutMin: 10, electionTimeoutMax: 20, heartbeatInterval: 10 }),
      /heartbeatInterval/,
    );
    assert.throws(
      () =>
        new RaftElection({
          ...base,
          voters: ['b', 'c'],
          electionTimeoutMin: 10,
          electionTimeoutMax: 20,
          heartbeatInterval: 1,
        }),
      /include this node/,
    );
  });
});

describe('two pre-candidates at once', () => {
  test('only the lower id wins its PreVote, so the vote does not split', () => {
    // a is dead; b and c time out on the same tick, each asks the other for a PreVote.
    const b = makeNode({ id: 'b', stored: { term: 1, votedFor: null } });
    const c = makeNode({ id: 'c', stored: { term: 1, votedFor: null } });
    const nodes: Record<string, RaftElection> = { b, c };
    let inFlight = [...allMessages(ticks(b, MIN)), ...allMessages(ticks(c, MIN))];
    assert.deepEqual([b.status().role, c.status().role], ['pre-candidate', 'pre-candidate']);
    const refusals: string[] = [];
    for (let round = 0; inFlight.length > 0 && round < 10; round++) {
      inFlight = inFlight.flatMap((m) => {
        const out = nodes[m.to]?.step(m);
        for (const e of out?.events ?? []) if (e.kind === 'vote' && !e.granted) refusals.push(e.reason);
        return out?.messages ?? [];
      });
    }
    assert.deepEqual(
      [b.status().role, b.status().term, c.status().role, c.status().term, c.status().leader],
      ['leader', 2, 'follower', 2, 'b'],
    );
    assert.deepEqual(refusals, ['pre-campaigning for term 2 too, and b < c']);
  });
});

describe('leader probes (a crashed leader noticed before the election timeout)', () => {
  /** `a`, probing, follows b in term 1 with a heartbeat interval of 6 (a probe every 2 ticks). */
  const probingFollower = (options: { leaderProbe?: boolean } = {}) => {
    const n = makeNode({ heartbeat: 6, timeout: MAX, leaderProbe: options.leaderProbe ?? true });
    n.step(heartbeat('b', 1));
    return n;
  };
  const probeTicks = (outs: Output[]) =>
    outs.flatMap((o, i) => (o.probes ?? []).map((m) => [i + 1, m.type, m.to, m.term]));

  test('a follower probes its leader from a third of a heartbeat late, every third of one, until it times out', () => {
    const n = probingFollower();
    const outs = ticks(n, MAX);
    assert.deepEqual(
      probeTicks(outs),
      [8, 10, 12, 14, 16, 18].map((at) => [at, 'AppendEntriesReply', 'b', 1]),
      'the timeout tick (20) campaigns instead',
    );
    assert.equal(allMessages(outs.slice(0, -1)).length, 0, 'probes are not ordinary messages');
    assert.equal(n.status().role, 'pre-candidate');
  });

  test('heartbeats on time mean no probes; nor does a node without a leader or with probes off', () => {
    const onTime = probingFollower();
    const outs: Output[] = [];
    for (let i = 0; i < 4; i++) {
      outs.push(...ticks(onTime, 6));
      onTime.step(heartbeat('b', 1));
    }
    assert.deepEqual(probeTicks(outs), []);
    assert.deepEqual(probeTicks(ticks(makeNode({ heartbeat: 6, timeout: MAX, leaderProbe: true }), MAX)), []);
    assert.deepEqual(probeTicks(ticks(probingFollower({ leaderProbe: false }), MAX)), []);
  });

  test('the next action it reports is the next probe, so a sleeping runtime does not miss one', () => {
    const n = makeNode({ heartbeat: 6, timeout: 19, leaderProbe: true });
    n.step(heartbeat('b', 1));
    assert.equal(n.ticksUntilNextAction(), 8);
    ticks(n, 8);
    assert.equal(n.ticksUntilNextAction(), 2);
    ticks(n, 9);
    assert.equal(n.ticksUntilNextAction(), 1, 'the probe at 18');
    ticks(n, 1);
    assert.equal(n.ticksUntilNextAction(), 1, 'then the timeout at 19, before the probe at 20');
  });

  test('asked for a PreVote within its lease, a follower refuses and probes its leader at once', () => {
    const n = probingFollower();
    ticks(n, 2);
    const out = n.step(vote('c', 2, true));
    assert.deepEqual(
      out.messages.map((m) => m.type === 'RequestVoteReply' && m.granted),
      [false],
    );
    assert.deepEqual(
      (out.probes ?? []).map((m) => [m.type, m.to, m.term]),
      [['AppendEntriesReply', 'b', 1]],
    );
    assert.equal(probingFollower({ leaderProbe: false }).step(vote('c', 2, true)).probes, undefined);
  });

  test('told its leader is unreachable, a follower campaigns at once with a PreVote', () => {
    const n = probingFollower();
    ticks(n, 8);
    const out = n.peerUnreachable('b');
    assert.equal(n.status().role, 'pre-candidate');
    assert.equal(n.status().term, 1, 'a pre-vote moves no term');
    assert.equal(out.hardState, null);
    assert.deepEqual(
      out.events.filter((e) => e.kind === 'transition').map((e) => [e.from, e.to, e.reason]),
      [['follower', 'pre-candidate', 'leader unreachable']],
    );
    assert.deepEqual(
      out.messages.map((m) => [m.type, m.to, m.term]),
      [
        ['RequestVote', 'b', 2],
        ['RequestVote', 'c', 2],
      ],
    );
  });

  test('news of a node that is not its leader changes nothing (a leader leads itself, a candidate knows none)', () => {
    const follower = probingFollower();
    assert.deepEqual(follower.peerUnreachable('c'), { hardState: null, messages: [], events: [] });
    assert.deepEqual([follower.status().role, follower.status().leader], ['follower', 'b']);
    const leader = leaderAtTerm1();
    assert.deepEqual(leader.peerUnreachable('b').events, []);
    assert.equal(leader.status().role, 'leader');
    const candidate = makeNode({ preVote: false });
    ticks(candidate, MIN);
    assert.deepEqual(candidate.peerUnreachable('b').events, []);
    assert.equal(candidate.status().term, 1);
  });

  test('an ineligible follower does not stand, but forgets the leader and so grants pre-votes', () => {
    const n = probingFollower();
    n.setEligible(false);
    n.peerUnreachable('b');
    assert.deepEqual([n.status().role, n.status().leader], ['follower', null]);
    const reply = n.step(vote('c', 2, true)).messages[0];
    assert.deepEqual(reply && reply.type === 'RequestVoteReply' && reply.granted, true);
  });

  /** Followers b and c of a (the dead leader) in term 1, and a way to deliver their messages. */
  const survivors = (options: { checkQuorum?: boolean } = {}) => {
    const make = (id: string) =>
      makeNode({
        id,
        heartbeat: 6,
        timeout: MAX,
        leaderProbe: true,
        checkQuorum: options.checkQuorum ?? true,
      });
    const nodes: Record<string, RaftElection> = { b: make('b'), c: make('c') };
    for (const to of ['b', 'c']) nodes[to]?.step({ ...heartbeat('a', 1), to });
    const run = (messages: readonly ElectionMessage[]) => {
      let inFlight = [...messages];
      for (let round = 0; inFlight.length > 0 && round < 10; round++) {
        inFlight = inFlight.flatMap((m) => nodes[m.to]?.step(m).messages ?? []);
      }
    };
    return { b: nodes.b as RaftElection, c: nodes.c as RaftElection, run };
  };
  const roles = (...ns: RaftElection[]) =>
    ns.map((n) => [n.status().role, n.status().term, n.status().leader]);

  test('a survivor that refused a PreVote within its lease grants it, unasked, once it finds the leader gone', () => {
    // b finds a gone first and asks c, which still heard a: refused. Then c finds a gone too:
    // rather than standing against b (two pre-candidates of one term), it sends b its grant.
    const { b, c, run } = survivors();
    run(b.peerUnreachable('a').messages);
    assert.deepEqual(roles(b, c), [
      ['pre-candidate', 1, null],
      ['follower', 1, 'a'],
    ]);
    const out = c.peerUnreachable('a');
    assert.deepEqual(
      out.messages.map((m) => m.type === 'RequestVoteReply' && [m.to, m.term, m.preVote, m.granted]),
      [['b', 2, true, true]],
    );
    assert.ok(
      out.events.some((e) => e.kind === 'vote' && e.granted && e.reason === 'leader a is unreachable'),
    );
    run(out.messages);
    assert.deepEqual(roles(b, c), [
      ['leader', 2, 'b'],
      ['follower', 2, 'b'],
    ]);
  });

  test('a survivor that granted a PreVote backs that candidate when it finds the leader gone', () => {
    // Without CheckQuorum there is no lease: c grants b's PreVote while still following a.
    const { b, c, run } = survivors({ checkQuorum: false });
    const asks = b.peerUnreachable('a').messages.filter((m) => m.to === 'c');
    const grant = asks.flatMap((m) => c.step(m).messages);
    assert.ok(grant.every((m) => m.type === 'RequestVoteReply' && m.granted));
    const out = c.peerUnreachable('a');
    assert.deepEqual([out.messages, c.status().role, c.status().leader], [[], 'follower', null]);
    run(grant);
    assert.deepEqual(roles(b, c), [
      ['leader', 2, 'b'],
      ['follower', 2, 'b'],
    ]);
  });

  test('a pre-candidate grants a higher-id rival whose refusal it holds: no one waits out a timeout', () => {
    // c refused b within its lease, then timed out and pre-campaigns for the same term itself.
    const b = makeNode({ id: 'b', stored: { term: 1, votedFor: null } });
    const c = makeNode({ id: 'c' });
    c.step({ ...heartbeat('a', 1), to: 'c' });
    ticks(c, MIN - 1);
    const asks = allMessages(ticks(b, MIN)).filter((m) => m.to === 'c');
    for (const m of asks.flatMap((m) => c.step(m).messages)) b.step(m);
    const cAsks = c.tick().messages.filter((m) => m.to === 'b');
    assert.deepEqual([b.status().role, c.status().role], ['pre-candidate', 'pre-candidate']);
    const replies = cAsks.flatMap((m) => b.step(m).messages);
    assert.deepEqual(
      replies.map((m) => m.type === 'RequestVoteReply' && m.granted),
      [true],
    );
  });

  test('a probing follower that granted a PreVote grants others of that term only to lower ids', () => {
    // z follows d (no lease: CheckQuorum off). Several of d's followers find it gone at once and
    // stand; granting all of them would let several win their PreVotes and split the vote.
    const follower = (leaderProbe: boolean) => {
      const n = makeNode({ id: 'z', voters: ['a', 'b', 'c', 'd', 'z'], checkQuorum: false, leaderProbe });
      n.step({ ...heartbeat('d', 1), to: 'z' });
      return n;
    };
    const answers = (n: RaftElection) =>
      ['b', 'c', 'a'].map((from) => {
        const reply = n.step({ ...vote(from, 2, true), to: 'z' }).messages[0];
        return [from, reply?.type === 'RequestVoteReply' && reply.granted];
      });
    assert.deepEqual(answers(follower(true)), [
      ['b', true],
      ['c', false],
      ['a', true],
    ]);
    assert.deepEqual(
      answers(follower(false)),
      [
        ['b', true],
        ['c', true],
        ['a', true],
      ],
      'without probes, as etcd: every PreVote of a higher term',
    );
  });

  test('a PreVote grant stands against a refusal from the same voter that the network delivered late', () => {
    const n = makeNode({ voters: ['a', 'b', 'c', 'd', 'e'], stored: { term: 1, votedFor: null } });
    ticks(n, MIN);
    n.step(voteReply('b', 2, true, true));
    n.step(voteReply('b', 1, false, true));
    n.step(voteReply('c', 2, true, true));
    assert.equal(n.status().role, 'candidate', 'a, b and c: three of five');
  });
});
