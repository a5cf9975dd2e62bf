/**
 * Raft leader election as a pure, deterministic state machine.
 *
 * Shaped after etcd's raft: the caller feeds it `tick()`s and `step(message)`s and acts on what
 * each call returns (state to persist, messages to send, events to report). There are no
 * sockets, timers, clocks or randomness in here: time is counted in ticks, and the random
 * election timeout comes from an injected `randomInt`. That is what lets the simulation run
 * thousands of seeded clusters and check Raft's invariants after every step.
 *
 * Implemented: terms, RequestVote, heartbeats (AppendEntries without entries), randomized
 * election timeouts, stepping down on any higher term, PreVote (Raft thesis §9.6),
 * CheckQuorum with leader lease (thesis §6.2 / §4.2.3), leadership transfer with TimeoutNow
 * (thesis §3.10, etcd's campaignTransfer), and leader probes: a follower whose leader's heartbeat
 * is late asks the runtime whether anybody still listens at the leader's address, and campaigns
 * at once if nobody does (see `peerUnreachable`).
 */

import type {
  AppendEntries,
  AppendEntriesReply,
  ElectionMessage,
  NodeId,
  RequestVote,
  RequestVoteReply,
  TimeoutNow,
} from './messages.js';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** What Raft keeps on stable storage: it must be durable before any reply that depends on it. */
export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId | null;
}

export interface ElectionConfig {
  readonly id: NodeId;
  /** Every voter in the cluster, this node included. */
  readonly voters: readonly NodeId[];
  /** The election timeout is drawn uniformly from [min, max] ticks at every reset. */
  readonly electionTimeoutMin: number;
  readonly electionTimeoutMax: number;
  readonly heartbeatInterval: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /**
   * Probe the leader once its heartbeat is late (see `Output.probes`), so that a leader whose
   * process is gone is replaced without waiting out the election timeout. Off when absent.
   */
  readonly leaderProbe?: boolean;
  /** Injected randomness: an integer in [min, max], both inclusive. */
  readonly randomInt: (min: number, max: number) => number;
}

export type TransitionReason =
  | 'start'
  | 'election timeout'
  | 'pre-vote won'
  | 'pre-vote lost'
  | 'election won'
  | 'election lost'
  | 'higher term'
  | 'heartbeat from leader'
  | 'lost quorum'
  | 'fence lost'
  | 'cannot write'
  | 'leadership transfer'
  | 'leader unreachable';

export type ElectionEvent =
  | {
      readonly kind: 'transition';
      readonly from: Role;
      readonly to: Role;
      readonly term: number;
      readonly reason: TransitionReason;
      /** The node whose message caused it, when one did. */
      readonly peer?: NodeId;
    }
  | {
      readonly kind: 'vote';
      readonly candidate: NodeId;
      readonly term: number;
      readonly preVote: boolean;
      readonly granted: boolean;
      readonly reason: string;
    }
  | { readonly kind: 'leader'; readonly leader: NodeId | null; readonly term: number }
  | {
      /** A leadership transfer of this leader began, or ran out of time and was given up. */
      readonly kind: 'transfer';
      readonly outcome: 'started' | 'aborted';
      readonly target: NodeId;
      readonly term: number;
    }
  | {
      /** A TimeoutNow arrived: whether this node campaigned on it, and why (not). */
      readonly kind: 'timeout now';
      readonly from: NodeId;
      readonly term: number;
      readonly campaigned: boolean;
      readonly reason: string;
    };

/**
 * The result of one input. Persist `hardState` (when set) before sending the replies among
 * `messages`; requests may go before it (see ElectionService).
 */
export interface Output {
  readonly hardState: HardState | null;
  readonly messages: readonly ElectionMessage[];
  readonly events: readonly ElectionEvent[];
  /**
   * Messages to send so that the runtime can tell whether anybody listens at the peer's address
   * (a refusal is reported back with `peerUnreachable`); a runtime that cannot tell sends them as
   * any message. Present only when there are some.
   */
  readonly probes?: readonly ElectionMessage[];
}

export interface ElectionStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leader: NodeId | null;
  /** The follower this leader is handing over to, while a transfer runs. */
  readonly transferTarget: NodeId | null;
  /**
   * Whether Raft would take new writes: only a leader that is not handing over its leadership
   * (§3.10: a replicated log stops growing so that the target can catch up). A node's writes go
   * to the database's log under its fence instead, and go on through a transfer until the
   * successor's claim (nodes/leadership/fence-keeper.ts, `handOver`).
   */
  readonly acceptingWrites: boolean;
}

/** Why a leader refused to start a transfer (see transferLeadership). */
export type TransferRefusal =
  | 'not leader'
  | 'unknown target'
  | 'target is this node'
  | 'target not recently heard from'
  | 'no follower recently heard from'
  | 'transfer in progress';

export type TransferResult =
  | { readonly accepted: true; readonly target: NodeId; readonly output: Output }
  | {
      readonly accepted: false;
      readonly reason: TransferRefusal;
      /** The leader this node knows of, to forward the request to (when it is not the leader). */
      readonly leader: NodeId | null;
    };

export class RaftElection {
  private role: Role = 'follower';
  private term: number;
  private votedFor: NodeId | null;
  private leader: NodeId | null = null;

  private electionElapsed = 0;
  /** Whether this node may lead; see setEligible. */
  private eligible = true;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Votes of the current (pre-)campaign, keyed by voter so duplicates count once. */
  private votes = new Map<NodeId, boolean>();
  /** Peers heard from since the leader last checked its quorum. */
  private recentlyActive = new Set<NodeId>();
  /** Ticks since this node became leader, and the tick at which it last heard from each peer. */
  private leaderTicks = 0;
  private heardAt = new Map<NodeId, number>();
  /** While leader: since when (leader ticks) each follower has been heard from without a break. */
  private contactSince = new Map<NodeId, number>();
  /** The leadership transfer in progress, and how many ticks it has run. */
  private transferTarget: NodeId | null = null;
  private transferElapsed = 0;
  /**
   * The PreVotes for the next term this follower answered since it last heard its leader (or
   * reset its timer), and whether it granted them: told later that the leader is gone, it backs
   * a candidate that asked rather than standing against it (see peerUnreachable).
   */
  private preVoteAsks = new Map<NodeId, boolean>();

  private readonly peers: readonly NodeId[];
  private readonly quorum: number;

  // Output being collected for the call in progress.
  private outMessages: ElectionMessage[] = [];
  private outEvents: ElectionEvent[] = [];
  private outProbes: ElectionMessage[] = [];
  private dirty = false;

  constructor(
    private readonly config: ElectionConfig,
    stored: HardState = { term: 0, votedFor: null },
  ) {
    if (!config.voters.includes(config.id)) throw new Error(`voters must include this node (${config.id})`);
    if (new Set(config.voters).size !== config.voters.length) throw new Error('voters must be unique');
    if (!(config.electionTimeoutMin > config.heartbeatInterval && config.heartbeatInterval >= 1)) {
      throw new Error('need 1 <= heartbeatInterval < electionTimeoutMin');
    }
    if (config.electionTimeoutMax < config.electionTimeoutMin) {
      throw new Error('electionTimeoutMax must be >= electionTimeoutMin');
    }
    if (config.leaderProbe && !config.preVote) {
      // Without PreVote, two followers that find the leader gone a tick apart both stand at
      // once, each votes for itself, and the vote splits: slower than waiting for the timeout.
      throw new Error('leaderProbe needs preVote');
    }
    this.term = stored.term;
    this.votedFor = stored.votedFor;
    this.peers = config.voters.filter((v) => v !== config.id);
    this.quorum = Math.floor(config.voters.length / 2) + 1;
    this.resetElectionTimer();
  }

  status(): ElectionStatus {
    return {
      id: this.config.id,
      role: this.role,
      term: this.term,
      votedFor: this.votedFor,
      leader: this.leader,
      transferTarget: this.transferTarget,
      acceptingWrites: this.role === 'leader' && this.transferTarget === null,
    };
  }

  hardState(): HardState {
    return { term: this.term, votedFor: this.votedFor };
  }

  /** Advance logical time by one tick. */
  tick(): Output {
    if (this.role === 'leader') {
      this.tickLeader();
    } else {
      this.electionElapsed++;
      if (this.electionElapsed >= this.randomizedElectionTimeout) {
        if (this.eligible) {
          this.campaign('election timeout');
        } else {
          // Not standing, but no longer hearing a leader either: forget it, so as not to refuse
          // the pre-votes of nodes that can lead (the CheckQuorum lease holds only with a leader).
          this.setLeader(null);
          this.resetElectionTimer();
        }
      } else if (this.probeDue()) {
        this.probeLeader();
      }
    }
    return this.flush();
  }

  /**
   * How many ticks from now the next one that can act (time out, heartbeat, check the quorum)
   * falls on, when no message arrives meanwhile: the ticks before it only count. A runtime may
   * sleep until then and deliver them in a row (it must deliver them before the next `step`,
   * which reads the counts).
   */
  ticksUntilNextAction(): number {
    if (this.role === 'leader') {
      return Math.max(
        1,
        Math.min(
          this.config.heartbeatInterval - this.heartbeatElapsed,
          this.config.electionTimeoutMin - this.electionElapsed,
          this.transferTarget === null
            ? Number.POSITIVE_INFINITY
            : this.config.electionTimeoutMin - this.transferElapsed,
        ),
      );
    }
    const timeout = this.randomizedElectionTimeout - this.electionElapsed;
    if (!this.probing()) return Math.max(1, timeout);
    const late = this.electionElapsed - this.config.heartbeatInterval;
    const toProbe = late < 0 ? this.probeEvery() - late : this.probeEvery() - (late % this.probeEvery());
    return Math.max(1, Math.min(timeout, toProbe));
  }

  /**
   * Whether this node may lead. The runtime says no while the node cannot reach the database: it
   * could neither claim the write fence nor write, and holding leadership would only keep a node
   * that can from taking it. An ineligible node still votes and follows; it does not campaign,
   * and a leader or candidate steps down at once.
   */
  setEligible(eligible: boolean): Output {
    this.eligible = eligible;
    if (!eligible && this.role !== 'follower') this.becomeFollower(this.term, null, 'cannot write');
    return this.flush();
  }

  /** Handle one message from a peer. Messages not addressed to this node are ignored. */
  step(m: ElectionMessage): Output {
    if (m.to === this.config.id && m.from !== this.config.id && this.peers.includes(m.from)) {
      this.handle(m);
    }
    return this.flush();
  }

  /**
   * Hand leadership over (Raft thesis §3.10): this leader stops taking new writes in Raft's
   * sense (see `acceptingWrites`) and tells the target to campaign at once with TimeoutNow. The target must
   * be a follower this leader heard from within the last minimum election timeout; without one
   * named, the follower heard from without a break for the longest is chosen. If no new leader
   * shows itself within a minimum election timeout the transfer is aborted and this node leads on
   * as before.
   */
  transferLeadership(to?: NodeId): TransferResult {
    const refuse = (reason: TransferRefusal): TransferResult => ({
      accepted: false,
      reason,
      leader: this.leader,
    });
    if (this.role !== 'leader') return refuse('not leader');
    if (this.transferTarget !== null) return refuse('transfer in progress');
    let target: NodeId;
    if (to === undefined) {
      const recent = this.peers.filter((p) => this.heardRecently(p));
      if (recent.length === 0) return refuse('no follower recently heard from');
      // The one heard from without a break for the longest: a follower back from a restart (its
      // process cold, its link just proven) is the last choice. Ties go to the first in the voter
      // list, so the choice is deterministic.
      const since = (p: NodeId) => this.contactSince.get(p) ?? 0;
      target = recent.reduce((a, b) => (since(b) < since(a) ? b : a));
    } else {
      if (to === this.config.id) return refuse('target is this node');
      if (!this.peers.includes(to)) return refuse('unknown target');
      if (!this.heardRecently(to)) return refuse('target not recently heard from');
      target = to;
    }
    this.transferTarget = target;
    this.transferElapsed = 0;
    this.outEvents.push({ kind: 'transfer', outcome: 'started', target, term: this.term });
    this.send<TimeoutNow>({ type: 'TimeoutNow', to: target, term: this.term });
    return { accepted: true, target, output: this.flush() };
  }

  /**
   * Learn from outside the election that `term` has begun (the write fence in the database says
   * so): adopt a higher term and step down, as on any message of a higher term. A leader told
   * that its own term is fenced by someone else steps down too.
   */
  observeTerm(term: number): Output {
    if (term > this.term) this.becomeFollower(term, null, 'higher term');
    else if (term === this.term && this.role === 'leader') this.becomeFollower(term, null, 'fence lost');
    return this.flush();
  }

  /**
   * The runtime found nobody listening at `peer`'s address (the kernel refused a probe: no socket
   * is bound there, so its process is gone or restarting). A follower whose leader that is does
   * not wait out its election timeout: it campaigns now — with PreVote, so a wrong report costs
   * a refused pre-vote and nothing else. Only evidence about this node's own leader counts, and
   * only this node acts on it: a peer still hearing the leader keeps its lease and refuses.
   */
  peerUnreachable(peer: NodeId): Output {
    if (this.role !== 'follower' || this.leader !== peer) return this.flush();
    const asks = [...this.preVoteAsks];
    const backed = asks.find(([, granted]) => granted)?.[0];
    // Of those refused while the leader still seemed alive, the lowest id, as rivals decide.
    const refused = asks
      .filter(([, granted]) => !granted)
      .map(([id]) => id)
      .sort()[0];
    if (this.eligible && backed === undefined && refused === undefined) {
      this.campaign('leader unreachable');
      return this.flush();
    }
    // Not standing: this node cannot lead, or another already stands with its PreVote — or
    // asked for it while the leader seemed alive, and gets it now, unasked. Standing against
    // that candidate as well could split the vote. Either way the leader is forgotten, which
    // ends the lease: its and any other pre-candidate's PreVotes are granted from now on, and
    // this node's own timeout still runs should that campaign fail. (In a larger cluster, enough
    // lease refusals may have sent that candidate back to follower before the grants came: then
    // the timeouts decide, as without probes. Standing within a heartbeat or two instead was
    // tried: more candidates at once, more split votes — slower in the simulation.)
    this.setLeader(null);
    if (backed === undefined && refused !== undefined) {
      this.preVoteAsks.set(refused, true);
      this.reportVote(
        { type: 'RequestVote', from: refused, to: this.config.id, term: this.term + 1, preVote: true },
        true,
        `leader ${peer} is unreachable`,
      );
      this.answerPreVote(refused, this.term + 1, true);
    }
    return this.flush();
  }

  // ---- the rules -------------------------------------------------------------------------

  private handle(m: ElectionMessage): void {
    if (m.term > this.term) {
      // A PreVote carries the term its sender *would* use; a granted PreVote reply echoes it.
      // Neither is evidence that the cluster moved on, so neither changes our term.
      const preVoteTraffic =
        (m.type === 'RequestVote' && m.preVote) || (m.type === 'RequestVoteReply' && m.preVote && m.granted);
      // A transfer campaign was started by the leader itself, so the lease does not apply to it.
      // It only skips the lease: the one vote per term below still holds, and a transfer vote of
      // an older term is refused as stale like any other.
      const transfer = m.type === 'RequestVote' && m.transfer === true && !m.preVote;
      if (m.type === 'RequestVote' && !transfer && this.inLease()) {
        // CheckQuorum's lease: we heard from a live leader less than a minimum election timeout
        // ago, so a candidate with a higher term is cut off from it, not replacing a dead one.
        this.reportVote(m, false, `leader ${this.leader} is alive (lease)`);
        this.notePreVoteAsk(m, false);
        // A peer that stands has stopped hearing the leader: look now, not at the next probe.
        if (m.preVote && this.probing()) this.probeLeader();
        // A pre-candidate is told, so that it can grant this node's own PreVote should this
        // node lose the leader too (see handleRequestVote). A refusal moves no term or vote.
        if (m.preVote) this.answerPreVote(m.from, this.term, false);
        return;
      }
      if (!preVoteTraffic) {
        // Only the leader of a term sends heartbeats and TimeoutNow in it.
        const leader = m.type === 'AppendEntries' || m.type === 'TimeoutNow' ? m.from : null;
        this.becomeFollower(m.term, leader, 'higher term', m.from);
      }
    } else if (m.term < this.term) {
      this.handleStale(m);
      return;
    }

    switch (m.type) {
      case 'RequestVote':
        this.handleRequestVote(m);
        return;
      case 'RequestVoteReply':
        this.handleVoteReply(m);
        return;
      case 'AppendEntries':
        this.handleHeartbeat(m);
        return;
      case 'AppendEntriesReply':
        if (this.role === 'leader') {
          this.recentlyActive.add(m.from);
          if (!this.heardRecently(m.from)) this.contactSince.set(m.from, this.leaderTicks);
          this.heardAt.set(m.from, this.leaderTicks);
        }
        return;
      case 'TimeoutNow':
        this.handleTimeoutNow(m);
        return;
    }
  }

  /** A message from an older term. Answer where the answer helps the sender catch up. */
  private handleStale(m: ElectionMessage): void {
    if (m.type === 'AppendEntries') {
      // A deposed leader (or one cut off and back) learns our term and steps down. Without this,
      // with PreVote or CheckQuorum, a node that rejoins with a higher term may never be heard.
      this.send<AppendEntriesReply>({
        type: 'AppendEntriesReply',
        to: m.from,
        term: this.term,
        success: false,
      });
    } else if (m.type === 'RequestVote') {
      this.reportVote(m, false, `stale term ${m.term} < ${this.term}`);
      if (m.preVote) {
        // The pre-candidate learns our term and can campaign meaningfully next time.
        this.answerPreVote(m.from, this.term, false);
      }
    }
    // Stale replies belong to campaigns or leaderships that are already over: ignore them.
  }

  private handleRequestVote(m: RequestVote): void {
    // Here m.term >= this.term (equal, or higher for a PreVote that did not move our term).
    // etcd's rule: vote again for the same candidate; vote anew only with no vote and no leader
    // this term; grant a PreVote for a higher term (the lease check has already run).
    // Two pre-candidates for the same term would each grant the other, both stand, and split the
    // vote: a whole election timeout lost. While pre-campaigning, grant only a lower id, so at
    // most one of them wins its PreVote — or a rival that refused our own PreVote this round: it
    // will not help us win, and refusing it too would leave both waiting out a timeout (a
    // follower that still heard the leader refuses, then loses the leader and campaigns itself).
    // (A PreVote grant changes no term or vote: safety is not at stake, only which of them stands.)
    const rivalPreCandidate =
      m.preVote &&
      this.role === 'pre-candidate' &&
      m.term === this.term + 1 &&
      m.from > this.config.id &&
      this.votes.get(m.from) !== false;
    // With leader probes the followers of a crashed leader find it gone within a tick of each
    // other, so several stand at once; a follower granting each of them lets several win their
    // PreVotes and split the real vote. So a probing follower that granted a PreVote of this
    // round grants another only to a lower id — the same order as between rivals, so the lowest
    // standing id is never refused and the round cannot stall.
    const backedHigher =
      m.preVote && this.config.leaderProbe === true && this.role === 'follower' && m.term === this.term + 1
        ? [...this.preVoteAsks].find(([id, granted]) => granted && id < m.from)?.[0]
        : undefined;
    const canVote =
      this.votedFor === m.from ||
      (this.votedFor === null && this.leader === null) ||
      (m.preVote && m.term > this.term);
    // Without a replicated log there is no up-to-date check: the log is in PostgreSQL, fenced.
    let refusal: string | null = null;
    if (rivalPreCandidate) {
      refusal = `pre-campaigning for term ${m.term} too, and ${this.config.id} < ${m.from}`;
    } else if (backedHigher !== undefined) {
      refusal = `granted ${backedHigher} < ${m.from} a pre-vote for term ${m.term}`;
    } else if (!canVote) {
      refusal =
        this.votedFor !== null
          ? `already voted for ${this.votedFor} in term ${this.term}`
          : `term ${this.term} already has leader ${this.leader}`;
    }

    const granted = refusal === null;
    this.notePreVoteAsk(m, granted);
    if (granted && !m.preVote) {
      if (this.votedFor !== m.from) {
        this.votedFor = m.from;
        this.dirty = true;
      }
      // Granting a vote resets the timer, so we give the candidate a chance to win.
      this.electionElapsed = 0;
    }
    const reason = m.preVote
      ? 'no live leader known'
      : m.transfer
        ? 'leadership transfer'
        : 'first request this term';
    this.reportVote(m, granted, refusal ?? reason);
    this.send<RequestVoteReply>({
      type: 'RequestVoteReply',
      to: m.from,
      // A granted PreVote echoes the probed term so the pre-candidate does not take it as stale;
      // a refusal carries our own term, which tells a lagging pre-candidate to catch up.
      term: m.preVote && granted ? m.term : this.term,
      preVote: m.preVote,
      granted,
    });
  }

  private handleVoteReply(m: RequestVoteReply): void {
    const preCampaign =
      this.role === 'pre-candidate' && m.preVote && m.term === (m.granted ? this.term + 1 : this.term);
    const campaign = this.role === 'candidate' && !m.preVote && m.term === this.term;
    if (!preCampaign && !campaign) return;

    // A grant stands: a refusal from the same voter in the same round is an older answer that the
    // network reordered (a PreVote refused within the lease, then granted once the leader was
    // found gone; see peerUnreachable). A voter that granted a real vote grants it again.
    if (m.granted || !this.votes.has(m.from)) this.votes.set(m.from, m.granted);
    let granted = 0;
    let rejected = 0;
    for (const v of this.votes.values()) {
      if (v) granted++;
      else rejected++;
    }
    if (granted >= this.quorum) {
      if (this.role === 'pre-candidate') this.startElection('pre-vote won');
      else this.becomeLeader();
    } else if (rejected >= this.quorum) {
      this.becomeFollower(this.term, null, this.role === 'pre-candidate' ? 'pre-vote lost' : 'election lost');
    }
  }

  private handleHeartbeat(m: AppendEntries): void {
    // m.term === this.term here. Only one leader can exist per term, so m.from is it.
    if (this.role !== 'follower') {
      this.becomeFollower(this.term, m.from, 'heartbeat from leader', m.from);
    } else {
      this.setLeader(m.from);
    }
    this.electionElapsed = 0;
    this.preVoteAsks.clear();
    this.send<AppendEntriesReply>({ type: 'AppendEntriesReply', to: m.from, term: this.term, success: true });
  }

  /** TimeoutNow of our term (a higher one has made us its leader's follower already). */
  private handleTimeoutNow(m: TimeoutNow): void {
    // As in etcd, only a follower acts on it: a (pre-)candidate is campaigning already.
    const refusal =
      this.role !== 'follower' ? `not a follower (${this.role})` : this.eligible ? null : 'cannot write';
    this.outEvents.push({
      kind: 'timeout now',
      from: m.from,
      term: m.term,
      campaigned: refusal === null,
      reason: refusal ?? 'leadership transfer',
    });
    // No PreVote: the leader asked for it, so this is no node coming back from a partition.
    if (refusal === null) this.startElection('leadership transfer', true);
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.leaderTicks++;
    if (this.electionElapsed >= this.config.electionTimeoutMin) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        const active = this.recentlyActive.size + 1;
        this.recentlyActive.clear();
        if (active < this.quorum) {
          this.becomeFollower(this.term, null, 'lost quorum');
          return;
        }
      }
    }
    if (this.transferTarget !== null && ++this.transferElapsed >= this.config.electionTimeoutMin) {
      // No new leader within an election timeout: the target is down or cut off. Lead on.
      this.outEvents.push({
        kind: 'transfer',
        outcome: 'aborted',
        target: this.transferTarget,
        term: this.term,
      });
      this.transferTarget = null;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatInterval) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  private campaign(reason: TransitionReason): void {
    if (this.config.preVote) this.startPreVote(reason);
    else this.startElection(reason);
  }

  private startPreVote(reason: TransitionReason): void {
    this.transition('pre-candidate', reason);
    this.setLeader(null);
    this.resetElectionTimer();
    this.votes = new Map([[this.config.id, true]]);
    if (this.votes.size >= this.quorum) {
      this.startElection('pre-vote won');
      return;
    }
    for (const to of this.peers) {
      this.send<RequestVote>({ type: 'RequestVote', to, term: this.term + 1, preVote: true });
    }
  }

  private startElection(reason: TransitionReason, transfer = false): void {
    this.term++;
    this.votedFor = this.config.id;
    this.dirty = true;
    this.transition('candidate', reason);
    this.setLeader(null);
    this.resetElectionTimer();
    this.votes = new Map([[this.config.id, true]]);
    if (this.votes.size >= this.quorum) {
      this.becomeLeader();
      return;
    }
    for (const to of this.peers) {
      this.send<RequestVote>({
        type: 'RequestVote',
        to,
        term: this.term,
        preVote: false,
        ...(transfer ? { transfer: true } : {}),
      });
    }
  }

  private becomeLeader(): void {
    this.transition('leader', 'election won');
    this.setLeader(this.config.id);
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.recentlyActive.clear();
    this.leaderTicks = 0;
    this.heardAt.clear();
    this.contactSince.clear();
    this.broadcastHeartbeat();
  }

  private becomeFollower(term: number, leader: NodeId | null, reason: TransitionReason, peer?: NodeId): void {
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
      this.dirty = true;
    }
    this.transition('follower', reason, peer);
    this.setLeader(leader);
    this.resetElectionTimer();
  }

  private broadcastHeartbeat(): void {
    for (const to of this.peers) this.send<AppendEntries>({ type: 'AppendEntries', to, term: this.term });
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  /** With CheckQuorum, a node that recently heard from a leader ignores higher-term RequestVotes. */
  private inLease(): boolean {
    return (
      this.config.checkQuorum && this.leader !== null && this.electionElapsed < this.config.electionTimeoutMin
    );
  }

  /** A follower probes its leader only while the leader's heartbeat is late. */
  private probing(): boolean {
    return this.config.leaderProbe === true && this.role === 'follower' && this.leader !== null;
  }

  /** Probes go out every third of a heartbeat interval, from a third of one late. */
  private probeEvery(): number {
    return Math.ceil(this.config.heartbeatInterval / 3);
  }

  /** An unasked heartbeat reply: a live leader only counts it as news of this follower. */
  private probeLeader(): void {
    this.outProbes.push({
      type: 'AppendEntriesReply',
      from: this.config.id,
      to: this.leader as NodeId,
      term: this.term,
      success: true,
    });
  }

  private probeDue(): boolean {
    const late = this.electionElapsed - this.config.heartbeatInterval;
    return this.probing() && late > 0 && late % this.probeEvery() === 0;
  }

  /** Whether the leader heard from `peer` within the last minimum election timeout. */
  private heardRecently(peer: NodeId): boolean {
    const at = this.heardAt.get(peer);
    return at !== undefined && this.leaderTicks - at < this.config.electionTimeoutMin;
  }

  private notePreVoteAsk(m: RequestVote, granted: boolean): void {
    if (m.preVote && this.role === 'follower' && m.term === this.term + 1)
      this.preVoteAsks.set(m.from, granted);
  }

  private resetElectionTimer(): void {
    this.preVoteAsks.clear();
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.randomInt(
      this.config.electionTimeoutMin,
      this.config.electionTimeoutMax,
    );
  }

  private transition(to: Role, reason: TransitionReason, peer?: NodeId): void {
    const from = this.role;
    this.role = to;
    // A leader that steps down (to the new leader's vote request, say) has no transfer left.
    if (to !== 'leader') this.transferTarget = null;
    // A follower that stays a follower (a new term, say) is still worth a line: the term moved.
    this.outEvents.push({ kind: 'transition', from, to, term: this.term, reason, ...(peer ? { peer } : {}) });
  }

  private reportVote(m: RequestVote, granted: boolean, reason: string): void {
    this.outEvents.push({
      kind: 'vote',
      candidate: m.from,
      term: m.term,
      preVote: m.preVote,
      granted,
      reason,
    });
  }

  private setLeader(leader: NodeId | null): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.outEvents.push({ kind: 'leader', leader, term: this.term });
  }

  private answerPreVote(to: NodeId, term: number, granted: boolean): void {
    this.send<RequestVoteReply>({ type: 'RequestVoteReply', to, term, preVote: true, granted });
  }

  private send<M extends ElectionMessage>(m: Omit<M, 'from'>): void {
    this.outMessages.push({ ...m, from: this.config.id } as ElectionMessage);
  }

  private flush(): Output {
    const out: Output = {
      hardState: this.dirty ? this.hardState() : null,
      messages: this.outMessages,
      events: this.outEvents,
      ...(this.outProbes.length > 0 ? { probes: this.outProbes } : {}),
    };
    this.outMessages = [];
    this.outEvents = [];
    this.outProbes = [];
    this.dirty = false;
    return out;
  }
}
