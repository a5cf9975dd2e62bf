/**
 * Election rehearsals: a node keeps its election code warm, so that an election — rare, and the
 * moment every client waits on — does not run it cold. V8 compiles a function on its first call
 * (and drops bytecode left unrun for a while), and zod compiles a schema's fast path on its first
 * parse. Measured on this machine, in a process that had only exchanged heartbeats: the first
 * RequestVote's encoding took 0.9 ms against 0.05 ms after it, and a leadership transfer among
 * three election cores 4.1 ms against 0.1. An election is four datagram hops (a transfer, five),
 * and each paid its share of that in the process it reached, on the path every client waits on.
 *
 * So at start and every REHEARSAL_INTERVAL_MS a node runs, in memory, an election and a
 * leadership transfer among three throwaway election cores (pure state machines: no I/O, no
 * clock, no randomness), every message they exchange encoded and decoded by a throwaway codec
 * with a key of its own. Nothing touches the node's election, its transport or its term and vote.
 */
import type { Logger } from 'pino';
import type { ElectionMessage, NodeId } from '../election/messages.js';
import { RaftElection } from '../election/raft-election.js';
import { DatagramDecoder, DatagramEncoder } from '../transport/datagram-codec.js';
import { REHEARSAL_INTERVAL_MS } from './write-rehearsal.js';

const VOTERS: readonly NodeId[] = ['rehearsal-1', 'rehearsal-2', 'rehearsal-3'];
/** Signs nothing on the wire: the rehearsal's datagrams never leave the process. */
const KEY = 'election rehearsal: datagrams that never leave this process';
/** In ticks: short, so that a rehearsal takes a few dozen ticks. */
const TIMEOUT_MIN = 10;
const TIMEOUT_MAX = 20;
const HEARTBEAT = 2;
/** Far more ticks than an election among three cores that hear each other takes. */
const TICK_LIMIT = 200;

/** Every kind of datagram an election and a transfer exchange. */
export const REHEARSED_MESSAGES = [
  'AppendEntries',
  'AppendEntriesReply',
  'PreVote',
  'PreVoteReply',
  'RequestVote',
  'RequestVote (transfer)',
  'RequestVoteReply',
  'TimeoutNow',
] as const;

export interface ElectionRehearsalResult {
  readonly elected: NodeId;
  readonly successor: NodeId;
  /** The kinds of message that went through the codec, sorted. */
  readonly messages: readonly string[];
}

function kindOf(m: ElectionMessage): string {
  switch (m.type) {
    case 'RequestVote':
      return m.preVote ? 'PreVote' : m.transfer ? 'RequestVote (transfer)' : 'RequestVote';
    case 'RequestVoteReply':
      return m.preVote ? 'PreVoteReply' : 'RequestVoteReply';
    default:
      return m.type;
  }
}

/**
 * One rehearsal: three cores elect a leader, which hands over to a follower. Throws if they do
 * not (a bug in the core or the codec: the rehearsal is deterministic).
 */
export function rehearseElection(): ElectionRehearsalResult {
  let clock = 0;
  const now = () => clock;
  const encoders = new Map(
    VOTERS.map((id) => [id, new DatagramEncoder({ secret: KEY, clusterId: 'rehearsal', boot: 1, now })]),
  );
  const decoders = new Map(
    VOTERS.map((id) => [
      id,
      new DatagramDecoder({
        secret: KEY,
        clusterId: 'rehearsal',
        self: id,
        knownPeers: new Set(VOTERS.filter((v) => v !== id)),
        now,
      }),
    ]),
  );
  // Timeouts far apart (10, 17, 13): the first to time out wins without a split vote.
  let draws = 0;
  const randomInt = (min: number, max: number) => min + ((draws++ * 7) % (max - min + 1));
  const cores = new Map(
    VOTERS.map((id) => [
      id,
      new RaftElection({
        id,
        voters: VOTERS,
        electionTimeoutMin: TIMEOUT_MIN,
        electionTimeoutMax: TIMEOUT_MAX,
        heartbeatInterval: HEARTBEAT,
        preVote: true,
        checkQuorum: true,
        randomInt,
      }),
    ]),
  );
  const kinds = new Set<string>();
  const deliver = (messages: readonly ElectionMessage[]) => {
    const queue = [...messages];
    for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
      const frame = encoders.get(m.from)?.encode(m);
      const decoded = frame && decoders.get(m.to)?.decode(frame);
      if (!decoded?.ok) throw new Error(`election rehearsal: a ${m.type} did not decode`);
      kinds.add(kindOf(m));
      queue.push(...(cores.get(m.to)?.step(decoded.msg).messages ?? []));
    }
  };
  const tick = (ticks: number) => {
    for (let i = 0; i < ticks; i++) {
      clock++;
      for (const core of cores.values()) deliver(core.tick().messages);
    }
  };
  const leader = () => [...cores.values()].find((c) => c.status().role === 'leader');

  for (let t = 0; t < TICK_LIMIT && !leader(); t++) tick(1);
  const elected = leader();
  if (!elected) throw new Error('election rehearsal: no leader');
  // (A new leader's first heartbeats were answered within `deliver`: it has heard from its
  // followers, a transfer's targets.)
  const transfer = elected.transferLeadership();
  if (!transfer.accepted) throw new Error(`election rehearsal: transfer refused (${transfer.reason})`);
  deliver(transfer.output.messages);
  const successor = leader();
  if (!successor || successor === elected)
    throw new Error('election rehearsal: the transfer did not complete');
  return { elected: elected.status().id, successor: successor.status().id, messages: [...kinds].sort() };
}

/** Rehearses at start, then every `intervalMs` (REHEARSAL_INTERVAL_MS), until stopped. */
export class ElectionRehearsal {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: {
      readonly logger: Pick<Logger, 'warn'>;
      readonly intervalMs?: number;
      /** Told of each rehearsal's result. */
      readonly onRehearsed?: (result: ElectionRehearsalResult) => void;
    },
  ) {}

  start(): void {
    this.rehearse();
    this.timer = setInterval(() => this.rehearse(), this.options.intervalMs ?? REHEARSAL_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private rehearse(): void {
    try {
      this.options.onRehearsed?.(rehearseElection());
    } catch (error) {
      // A bug to report, not a reason to stop the node: its real election does not depend on this.
      this.options.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'election rehearsal failed',
      );
    }
  }
}
