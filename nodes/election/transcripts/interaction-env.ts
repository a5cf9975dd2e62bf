/**
 * The world an interaction transcript runs in: real RaftElection instances, a network of
 * messages in flight that the script delivers, drops or cuts, and durable state that survives
 * a crash. Nothing happens that the script does not ask for: no clock, and the "random" election
 * timeout of every node is the one the script gives it.
 *
 * Commands (arguments in brackets are optional):
 *   cluster voters=n1,n2,n3 [timeouts=10,15,20] [min=10] [max=20] [heartbeat=3] [prevote=true] [checkquorum=true] [probe=false]
 *   set-timeout <node> <ticks>   the election timeout the node draws at its next reset
 *   tick <node> [count]          advance one node's logical time
 *   tick-all [count]             tick every running node, in voter order, without delivering
 *   advance [count]              rounds of: tick every running node, then stabilize
 *   stabilize                    deliver messages, round after round, until none is in flight
 *   deliver <node>               deliver the messages now in flight to one node
 *   drop [node]                  lose the messages in flight (those to one node)
 *   isolate <node> / heal        cut a node off from every other / restore every link
 *   crash <node> / restart <node> stop a node (its durable state stays) / start it again from it
 *   transfer <node> [target]     ask a node to hand its leadership over (to a target of its choice)
 *   status                       every node's role, term, vote and leader
 *
 * A probe (`probe=true`) reaches a running node as its message; to a node that is down, the
 * kernel's refusal comes back at once and is stepped as `peerUnreachable`; across a cut link it
 * is lost, refusal and all.
 */
import type { ElectionMessage, NodeId } from '../messages.js';
import { type HardState, type Output, RaftElection } from '../raft-election.js';
import { describeEvent, describeHardState, describeMessage, describeStatus } from './describe.js';
import type { ParsedCommand } from './transcript-file.js';

interface Settings {
  readonly voters: readonly NodeId[];
  readonly min: number;
  readonly max: number;
  readonly heartbeat: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly probe: boolean;
}

/** Stabilize gives up after this many rounds: a script that never settles is a bug. */
const MAX_ROUNDS = 100;

export class InteractionEnv {
  private settings: Settings | null = null;
  private readonly live = new Map<NodeId, RaftElection>();
  private readonly durable = new Map<NodeId, HardState>();
  private readonly timeouts = new Map<NodeId, number>();
  private inFlight: ElectionMessage[] = [];
  private readonly isolated = new Set<NodeId>();

  /** Runs one command and returns what it printed ("ok" when nothing happened). */
  run(c: ParsedCommand): string {
    const lines = this.dispatch(c);
    return lines.length === 0 ? 'ok' : lines.join('\n');
  }

  private dispatch(c: ParsedCommand): string[] {
    switch (c.name) {
      case 'cluster':
        return this.cluster(c);
      case 'set-timeout':
        this.timeouts.set(this.node(c, 0), this.timeoutArg(c.args[1]));
        return [];
      case 'tick':
        return this.tick(this.node(c, 0), countArg(c.args[1]));
      case 'tick-all':
        return this.rounds(countArg(c.args[0]), () => this.tickAll());
      case 'advance':
        return this.rounds(countArg(c.args[0]), () => [...this.tickAll(), ...this.stabilize()]);
      case 'stabilize':
        return this.stabilize();
      case 'deliver':
        return this.deliver(this.node(c, 0));
      case 'drop':
        return this.drop(c.args[0] === undefined ? null : this.node(c, 0));
      case 'isolate':
        this.isolated.add(this.node(c, 0));
        return [];
      case 'heal':
        this.isolated.clear();
        return [];
      case 'crash':
        return this.crash(this.node(c, 0));
      case 'restart':
        return this.restart(this.node(c, 0));
      case 'transfer':
        return this.transfer(this.node(c, 0), c.args[1]);
      case 'status':
        return this.voters().map((id) => {
          const node = this.live.get(id);
          return node ? describeStatus(node.status()) : `${id} down`;
        });
      default:
        throw new Error(`unknown command "${c.name}"`);
    }
  }

  private cluster(c: ParsedCommand): string[] {
    if (this.settings) throw new Error('cluster: already created');
    const voters = (c.options.get('voters') ?? '').split(',').filter((v) => v !== '');
    if (voters.length === 0) throw new Error('cluster: voters=n1,n2,... is required');
    const flag = (name: string, fallback: boolean): boolean => {
      const v = c.options.get(name);
      if (v === undefined) return fallback;
      if (v !== 'true' && v !== 'false')
        throw new Error(`cluster: ${name} must be true or false, got "${v}"`);
      return v === 'true';
    };
    const min = countArg(c.options.get('min') ?? '10');
    this.settings = {
      voters,
      min,
      max: countArg(c.options.get('max') ?? String(2 * min)),
      heartbeat: countArg(c.options.get('heartbeat') ?? '3'),
      preVote: flag('prevote', true),
      checkQuorum: flag('checkquorum', true),
      probe: flag('probe', false),
    };
    const timeouts = c.options.get('timeouts')?.split(',') ?? [];
    if (timeouts.length > 0 && timeouts.length !== voters.length) {
      throw new Error('cluster: timeouts= needs one value per voter');
    }
    voters.forEach((id, i) => {
      this.timeouts.set(id, this.timeoutArg(timeouts[i] ?? String(min)));
    });
    return voters.flatMap((id) => this.restart(id));
  }

  private tick(id: NodeId, count: number): string[] {
    const node = this.liveNode(id);
    return this.rounds(count, () => this.apply(id, node.tick()));
  }

  private tickAll(): string[] {
    return this.voters().flatMap((id) => {
      const node = this.live.get(id);
      return node ? this.apply(id, node.tick()) : [];
    });
  }

  /** Runs `count` rounds; when there are several, each round that printed is headed by its number. */
  private rounds(count: number, round: () => string[]): string[] {
    const lines: string[] = [];
    for (let i = 1; i <= count; i++) {
      const out = round();
      if (out.length === 0) continue;
      if (count > 1) lines.push(`tick ${i}:`, ...indent(out));
      else lines.push(...out);
    }
    return lines;
  }

  private stabilize(): string[] {
    const lines: string[] = [];
    for (let round = 0; this.inFlight.length > 0; round++) {
      if (round === MAX_ROUNDS)
        throw new Error(`stabilize: still messages in flight after ${MAX_ROUNDS} rounds`);
      const batch = this.inFlight;
      this.inFlight = [];
      for (const m of batch) lines.push(...this.receive(m));
    }
    return lines;
  }

  private deliver(id: NodeId): string[] {
    const batch = this.inFlight.filter((m) => m.to === id);
    this.inFlight = this.inFlight.filter((m) => m.to !== id);
    return batch.flatMap((m) => this.receive(m));
  }

  private drop(id: NodeId | null): string[] {
    const lost = this.inFlight.filter((m) => id === null || m.to === id);
    this.inFlight = this.inFlight.filter((m) => !lost.includes(m));
    return lost.map((m) => `${describeMessage(m)} lost`);
  }

  private crash(id: NodeId): string[] {
    this.liveNode(id);
    this.live.delete(id);
    return [`${id} crashes`];
  }

  private restart(id: NodeId): string[] {
    const s = this.settings as Settings;
    if (this.live.has(id)) throw new Error(`${id} is already running`);
    const node = new RaftElection(
      {
        id,
        voters: s.voters,
        electionTimeoutMin: s.min,
        electionTimeoutMax: s.max,
        heartbeatInterval: s.heartbeat,
        preVote: s.preVote,
        checkQuorum: s.checkQuorum,
        leaderProbe: s.probe,
        randomInt: () => this.timeouts.get(id) as number,
      },
      this.durable.get(id),
    );
    this.live.set(id, node);
    return [`${describeStatus(node.status())} (timeout ${this.timeouts.get(id)})`];
  }

  private transfer(id: NodeId, target: NodeId | undefined): string[] {
    const r = this.liveNode(id).transferLeadership(target);
    if (r.accepted) return this.apply(id, r.output);
    return [
      `${id} refuses the transfer: ${r.reason}${r.leader && r.leader !== id ? ` (leader is ${r.leader})` : ''}`,
    ];
  }

  private receive(m: ElectionMessage): string[] {
    const head = describeMessage(m);
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return [`${head} dropped (isolated)`];
    const node = this.live.get(m.to);
    if (!node) return [`${head} dropped (${m.to} is down)`];
    return [head, ...indent(this.apply(m.to, node.step(m)))];
  }

  /** Records an output the way a runtime acts on it: persist, then send; returns its lines. */
  private apply(id: NodeId, out: Output): string[] {
    const lines = out.events.map((e) => describeEvent(id, e));
    if (out.hardState) {
      this.durable.set(id, out.hardState);
      lines.push(describeHardState(id, out.hardState));
    }
    for (const m of out.messages) {
      this.inFlight.push(m);
      lines.push(`send ${describeMessage(m)}`);
    }
    for (const m of out.probes ?? []) lines.push(...this.probe(id, m));
    return lines;
  }

  private probe(id: NodeId, m: ElectionMessage): string[] {
    const head = `probe ${describeMessage(m)}`;
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return [`${head} lost (isolated)`];
    if (this.live.has(m.to)) {
      this.inFlight.push(m);
      return [head];
    }
    const node = this.liveNode(id);
    return [`${head} refused (${m.to} is down)`, ...indent(this.apply(id, node.peerUnreachable(m.to)))];
  }

  private voters(): readonly NodeId[] {
    if (!this.settings) throw new Error('no cluster yet: start the script with "cluster voters=..."');
    return this.settings.voters;
  }

  private node(c: ParsedCommand, at: number): NodeId {
    const id = c.args[at];
    if (id === undefined) throw new Error(`${c.name}: which node?`);
    if (!this.voters().includes(id)) throw new Error(`${c.name}: unknown node "${id}"`);
    return id;
  }

  private liveNode(id: NodeId): RaftElection {
    const node = this.live.get(id);
    if (!node) throw new Error(`${id} is down`);
    return node;
  }

  private timeoutArg(text: string | undefined): number {
    const s = this.settings as Settings;
    const n = countArg(text);
    if (n < s.min || n > s.max) throw new Error(`election timeout ${n} is outside [${s.min}, ${s.max}]`);
    return n;
  }
}

function countArg(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a whole number >= 1, got "${text}"`);
  return n;
}

function indent(lines: readonly string[]): string[] {
  return lines.map((l) => `  ${l}`);
}
