/**
 * The election at run time: the pure state machine wired to a real clock, real randomness, a
 * durable store and a transport. Everything here is plumbing; the rules live in raft-election.
 *
 * For every output: persist (synchronously, fsync'd), send, report. Replies — a vote granted
 * or refused, a leader acknowledged — go only once the term and vote they answer from are
 * stored: a node that cannot remember its vote must not vote, and if the state cannot be
 * persisted no reply is sent. Requests — a candidate's vote requests above all — promise
 * nothing and go before the save, so that the voters' work overlaps the candidate's fsync, as
 * etcd's raft sends MsgVote at once and holds only responses (msgsAfterAppend) until its storage
 * write is durable. The candidate's own vote still counts only once stored: the save returns
 * before any reply can be read (one thread), and a failed save stops the node first.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { type ElectionMessage, isReply, type NodeId } from './messages.js';
import {
  type ElectionEvent,
  type ElectionStatus,
  type HardState,
  type Output,
  RaftElection,
  type TransferRefusal,
  type TransferResult,
} from './raft-election.js';

export interface ElectionTransport {
  send(message: ElectionMessage): void;
  onMessage(handler: (message: ElectionMessage) => void): void;
  /** Sends a probe so that a refusal (nobody listening at the peer) reaches `onUnreachable`. */
  probe?(message: ElectionMessage): void;
  onUnreachable?(handler: (peer: NodeId) => void): void;
}

export interface HardStateStore {
  load(): HardState;
  save(state: HardState): void;
}

export interface ElectionServiceOptions {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly electionTimeoutMs: { readonly min: number; readonly max: number };
  readonly heartbeatIntervalMs: number;
  /**
   * Probe a leader whose heartbeat is late, and campaign at once when the probe is refused (see
   * RaftElection.peerUnreachable); needs a transport that can tell. Off when absent.
   */
  readonly leaderProbe?: boolean;
  readonly transport: ElectionTransport;
  readonly store: HardStateStore;
  readonly logger: Logger;
  /** Called when the node can no longer take part safely (its state cannot be persisted). */
  readonly onFatal: (error: Error) => void;
  /** A monotonic clock in ms (injected for tests). */
  readonly now?: () => number;
  /** One logical tick, in ms. */
  readonly tickMs?: number;
}

export type TimedElectionEvent = ElectionEvent & { readonly at: Date };

/** How a leadership transfer asked of this node ended (see ElectionService.transferLeadership). */
export type TransferOutcome =
  /** The election heard of a new leader (it may not hold the write fence yet). */
  | { readonly kind: 'completed'; readonly leader: NodeId; readonly term: number; readonly target: NodeId }
  /** The core would not start it: not leader (then `leader` is the one known), bad target, one running. */
  | { readonly kind: 'refused'; readonly reason: TransferRefusal; readonly leader: NodeId | null }
  /** Started, but no new leader appeared within an election timeout: this node leads on. */
  | { readonly kind: 'aborted'; readonly target: NodeId }
  /** Started, but this node stepped down with no leader known by the wait's end, or was stopped. */
  | { readonly kind: 'unresolved'; readonly target: NodeId };

const NO_OUTPUT: Output = { hardState: null, messages: [], events: [] };

/**
 * At most this much late time (ms) is replayed as ticks at once. Time missed beyond that (the
 * event loop was blocked, the process paused) is dropped, as Go tickers drop ticks for etcd:
 * replaying a long gap in one burst would fire several election timeouts with no chance to hear
 * any reply in between. Dropping ticks only makes timeouts longer, which is always safe (the
 * write fence, not timing, keeps a deposed leader from writing).
 */
const MAX_CATCH_UP_MS = 50;

export class ElectionService {
  private readonly election: RaftElection;
  private readonly listeners = new Set<(event: TimedElectionEvent) => void>();
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly maxCatchUpTicks: number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** When the last delivered tick fell due. */
  private lastTickAt = 0;
  /** How many ticks after lastTickAt the timer is set for. */
  private plannedTicks = 0;
  private failed = false;
  /** Transfers awaiting their end, told when the service stops (no tick will end them then). */
  private readonly stopWaiters = new Set<() => void>();

  constructor(private readonly options: ElectionServiceOptions) {
    this.now = options.now ?? (() => performance.now());
    // 1 ms ticks: coarser ones make two nodes' random timeouts collide more often (split votes).
    this.tickMs = options.tickMs ?? 1;
    this.maxCatchUpTicks = Math.max(
      1,
      Math.floor(Math.min(MAX_CATCH_UP_MS, options.electionTimeoutMs.min / 2) / this.tickMs),
    );
    const ticks = (ms: number) => Math.max(1, Math.round(ms / this.tickMs));
    this.election = new RaftElection(
      {
        id: options.id,
        voters: options.voters,
        electionTimeoutMin: ticks(options.electionTimeoutMs.min),
        electionTimeoutMax: ticks(options.electionTimeoutMs.max),
        heartbeatInterval: ticks(options.heartbeatIntervalMs),
        preVote: true,
        checkQuorum: true,
        leaderProbe: options.leaderProbe === true && options.transport.probe !== undefined,
        randomInt: (min, max) => randomInt(min, max + 1),
      },
      options.store.load(),
    );
  }

  start(): void {
    const s = this.election.status();
    this.options.logger.info(
      { node: s.id, term: s.term, votedFor: s.votedFor, role: s.role },
      'election started',
    );
    this.options.transport.onMessage((m) => {
      // The counts the message is judged by (the CheckQuorum lease) must be up to date.
      this.catchUp();
      this.apply(() => this.election.step(m));
      this.schedule();
    });
    this.options.transport.onUnreachable?.((peer) => {
      this.catchUp();
      this.apply(() => this.election.peerUnreachable(peer));
      this.schedule();
    });
    this.running = true;
    this.lastTickAt = this.now();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const stopped of [...this.stopWaiters]) stopped();
  }

  status(): ElectionStatus {
    return this.election.status();
  }

  /** The write fence is at `term`: adopt it (and step down) if it is news to the election. */
  observeTerm(term: number): void {
    this.catchUp();
    this.apply(() => this.election.observeTerm(term));
    this.schedule();
  }

  /** Whether this node may lead (see RaftElection.setEligible); a leader steps down at once. */
  setEligible(eligible: boolean): void {
    this.catchUp();
    this.apply(() => this.election.setEligible(eligible));
    this.schedule();
  }

  /**
   * Hand leadership to `to` (or a follower the core picks), resolving when the transfer ends: a
   * new leader heard of, the core's abort after an election timeout, or, should this node step
   * down with no leader known, `waitMs` (default two maximum election timeouts) after the start.
   */
  transferLeadership(to?: NodeId, waitMs = 2 * this.options.electionTimeoutMs.max): Promise<TransferOutcome> {
    this.catchUp();
    const asked: { result?: TransferResult } = {};
    this.apply(() => {
      asked.result = this.election.transferLeadership(to);
      return asked.result.accepted ? asked.result.output : NO_OUTPUT;
    });
    this.schedule();
    const result = asked.result;
    if (!result) return Promise.resolve({ kind: 'refused', reason: 'not leader', leader: null });
    if (!result.accepted) {
      return Promise.resolve({ kind: 'refused', reason: result.reason, leader: result.leader });
    }
    const { target } = result;
    const self = this.options.id;
    return new Promise((resolve) => {
      const end = (outcome: TransferOutcome) => {
        clearTimeout(timer);
        unsubscribe();
        this.stopWaiters.delete(stopped);
        resolve(outcome);
      };
      const stopped = () => end({ kind: 'unresolved', target });
      const timer = setTimeout(stopped, waitMs);
      this.stopWaiters.add(stopped);
      const unsubscribe = this.subscribe((e) => {
        if (e.kind === 'leader' && e.leader !== null && e.leader !== self) {
          end({ kind: 'completed', leader: e.leader, term: e.term, target });
        } else if (e.kind === 'transfer' && e.outcome === 'aborted' && e.target === target) {
          end({ kind: 'aborted', target });
        }
      });
    });
  }

  subscribe(listener: (event: TimedElectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sleep until the next tick that can act, not tick by tick: an idle node wakes a few times per
   * heartbeat instead of a thousand times a second, with the same 1 ms resolution. Ticks follow
   * the monotonic clock, not the timer's count, so a timer that fires a little late catches up.
   */
  private schedule(): void {
    if (!this.running || this.failed) return;
    if (this.timer) clearTimeout(this.timer);
    const elapsed = Math.floor((this.now() - this.lastTickAt) / this.tickMs);
    this.plannedTicks = elapsed + this.election.ticksUntilNextAction();
    const wait = this.lastTickAt + this.plannedTicks * this.tickMs - this.now();
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.catchUp();
        this.schedule();
      },
      Math.max(0, wait),
    );
  }

  /** Deliver the ticks that fell due since the last one (lateness beyond the bound is dropped). */
  private catchUp(): void {
    if (!this.running) return;
    const now = this.now();
    const due = Math.floor((now - this.lastTickAt) / this.tickMs);
    const bound = this.plannedTicks + this.maxCatchUpTicks;
    this.lastTickAt = due > bound ? now : this.lastTickAt + due * this.tickMs;
    for (let i = 0; i < Math.min(due, bound) && !this.failed; i++) {
      this.apply(() => this.election.tick());
    }
  }

  private apply(input: () => Output): void {
    if (this.failed) return;
    const out = input();
    const { transport } = this.options;
    if (out.hardState) {
      // A request that cannot be sent is a lost datagram, never a reason to skip the save.
      for (const m of out.messages) {
        if (isReply(m)) continue;
        try {
          transport.send(m);
        } catch (error) {
          this.options.logger.warn(
            { err: error as Error, to: m.to, type: m.type },
            'a vote request was not sent',
          );
        }
      }
      try {
        this.options.store.save(out.hardState);
      } catch (error) {
        this.failed = true;
        this.stop();
        this.options.onFatal(error as Error);
        return;
      }
      for (const m of out.messages) if (isReply(m)) transport.send(m);
    } else {
      for (const m of out.messages) transport.send(m);
    }
    // Only a transport that can probe gets a core that probes (see the constructor).
    for (const m of out.probes ?? []) transport.probe?.(m);
    const at = new Date();
    for (const e of out.events) {
      this.log(e);
      for (const l of this.listeners) l({ ...e, at });
    }
  }

  private log(e: ElectionEvent): void {
    const log = this.options.logger;
    const node = this.options.id;
    if (e.kind === 'transition') {
      log.info(
        { node, term: e.term, from: e.from, to: e.to, reason: e.reason, ...(e.peer ? { peer: e.peer } : {}) },
        `${e.from} → ${e.to} in term ${e.term}: ${e.reason}`,
      );
    } else if (e.kind === 'vote') {
      const fields = {
        node,
        candidate: e.candidate,
        term: e.term,
        preVote: e.preVote,
        granted: e.granted,
        reason: e.reason,
      };
      const what = `${e.preVote ? 'pre-vote' : 'vote'} ${e.granted ? 'granted to' : 'refused to'} ${e.candidate} for term ${e.term}: ${e.reason}`;
      // A cut-off node asks again every timeout; its refused pre-votes are noise at info.
      if (e.preVote && !e.granted) log.debug(fields, what);
      else log.info(fields, what);
    } else if (e.kind === 'leader') {
      log.info(
        { node, term: e.term, leader: e.leader },
        e.leader ? `leader is ${e.leader} in term ${e.term}` : 'no leader known',
      );
    } else if (e.kind === 'transfer') {
      log.info(
        { node, term: e.term, target: e.target, outcome: e.outcome },
        `leadership transfer to ${e.target} ${e.outcome} in term ${e.term}`,
      );
    } else {
      log.info(
        { node, term: e.term, from: e.from, campaigned: e.campaigned, reason: e.reason },
        `TimeoutNow from ${e.from} in term ${e.term}: ${e.campaigned ? 'campaigning' : 'ignored'} (${e.reason})`,
      );
    }
  }
}
