/**
 * The nemesis: injects one fault at a time, chosen from a seed, holds it, heals it, and measures
 * how long the cluster takes to acknowledge a write through the gateway again. Every fault is
 * recorded (history.ts), so the checker can hold each heal to the recovery bound.
 */

import type { LocalCluster } from '../launcher/local-cluster.js';
import type { PatroniCluster } from '../launcher/patroni-cluster.js';
import type { ServiceProcess } from '../launcher/service-process.js';
import type { Prng } from '../nodes/election/simulation/prng.js';
import type { TestRabbitmq } from '../test-support/rabbitmq.js';
import type { FaultKind, FaultRecord } from './history.js';
import type { TestNetwork } from './test-network.js';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-leader',
  'pause-leader',
  'partition-leader',
  'isolate-follower',
  'lossy-links',
  'restart-rabbitmq',
  'restart-gateway',
];

/** Only when the run's PostgreSQL is a Patroni cluster (`database: 'patroni'`). */
export const DATABASE_FAULT_KINDS: readonly FaultKind[] = ['failover-database', 'switchover-database'];

export interface NemesisTargets {
  readonly cluster: LocalCluster;
  readonly network: TestNetwork;
  readonly rabbit: TestRabbitmq;
  /** The Patroni cluster, when the run has one: the database faults need it. */
  readonly database?: PatroniCluster;
  readonly gateway: ServiceProcess;
  /** Start the gateway and resolve once it serves. */
  readonly startGateway: () => Promise<void>;
  /** One write acknowledged through the gateway before the deadline (ms since epoch)? */
  readonly probe: (deadline: number) => Promise<boolean>;
  readonly random: Prng;
  readonly faults: FaultRecord[];
  /** Longest a fault is held (a pause must outlast the election timeout). */
  readonly holdMs: readonly [number, number];
  /** How long to keep probing after a heal before calling it "never recovered". */
  readonly giveUpMs: number;
  readonly log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Nemesis {
  constructor(private readonly t: NemesisTargets) {}

  /** The faults of a run: each kind once in a seeded order, then seeded picks, `count` in all. */
  plan(count: number, kinds: readonly FaultKind[] = FAULT_KINDS): FaultKind[] {
    const first = this.t.random.shuffle([...kinds]).slice(0, count);
    while (first.length < count) first.push(this.t.random.pick(kinds));
    return first;
  }

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const { cluster, network, random } = this.t;
    const hold = random.int(this.t.holdMs[0], this.t.holdMs[1]);
    const agreed = await cluster.waitForAgreement(30_000);
    const fault: FaultRecord = {
      kind,
      startedAt: Date.now(),
      leaderBefore: { id: agreed.leader, term: agreed.term },
    };
    this.t.faults.push(fault);
    const leader = agreed.leader;
    const followers = cluster.ids.filter((id) => id !== leader);
    /** What must be over before the next fault, awaited after the probe (it may outlast it). */
    let settling: Promise<unknown> = Promise.resolve();
    switch (kind) {
      case 'kill-leader': {
        Object.assign(fault, { target: leader });
        this.t.log(`kill -9 ${leader} for ${hold} ms`);
        await cluster.kill(leader);
        await sleep(hold);
        fault.healedAt = Date.now();
        const ready = cluster.waitForReady([leader]);
        cluster.start(leader);
        await ready;
        break;
      }
      case 'pause-leader': {
        Object.assign(fault, { target: leader });
        this.t.log(`SIGSTOP ${leader} for ${hold} ms`);
        cluster.signal(leader, 'SIGSTOP');
        await sleep(hold);
        cluster.signal(leader, 'SIGCONT');
        fault.healedAt = Date.now();
        break;
      }
      case 'partition-leader': {
        Object.assign(fault, { target: leader });
        this.t.log(`partition ${leader} from ${followers.join(', ')} for ${hold} ms`);
        await network.partition([leader], followers);
        await sleep(hold);
        await network.heal();
        fault.healedAt = Date.now();
        break;
      }
      case 'isolate-follower': {
        const follower = random.pick(followers);
        Object.assign(fault, { target: follower });
        this.t.log(`isolate follower ${follower} for ${hold} ms`);
        await network.partition(
          [follower],
          cluster.ids.filter((id) => id !== follower),
        );
        await sleep(hold);
        await network.heal();
        fault.healedAt = Date.now();
        break;
      }
      case 'lossy-links': {
        this.t.log(`30 % loss on every link for ${hold} ms`);
        await network.loss(30);
        await sleep(hold);
        await network.heal();
        fault.healedAt = Date.now();
        break;
      }
      case 'restart-rabbitmq': {
        this.t.log('restart RabbitMQ');
        await this.t.rabbit.restart();
        fault.healedAt = Date.now();
        break;
      }
      case 'restart-gateway': {
        this.t.log(`kill -9 the gateway for ${hold} ms`);
        await this.t.gateway.stop('SIGKILL');
        await sleep(hold);
        await this.t.startGateway();
        fault.healedAt = Date.now();
        break;
      }
      case 'failover-database': {
        const database = this.database(kind);
        this.t.log('kill -9 the database primary’s host (Patroni and PostgreSQL)');
        const killed = await database.killPrimaryHost();
        Object.assign(fault, { target: killed });
        // Healed once the standby is promoted (the leader key expired); the old one then rejoins.
        await database.waitForPrimary({ not: killed, standbys: false, timeoutMs: 60_000 });
        fault.healedAt = Date.now();
        settling = database.startMember(killed);
        break;
      }
      case 'switchover-database': {
        const database = this.database(kind);
        Object.assign(fault, { target: await database.waitForPrimary() });
        this.t.log(`switch the database primary over from ${fault.target}`);
        await database.switchover();
        fault.healedAt = Date.now();
        settling = database.waitForPrimary({ timeoutMs: 60_000 });
        break;
      }
    }
    const healed = fault.healedAt ?? Date.now();
    const recovered = await this.t.probe(healed + this.t.giveUpMs);
    if (recovered) fault.recoveryMs = Date.now() - healed;
    await settling;
    this.t.log(
      `${kind}${fault.target ? ` ${fault.target}` : ''}: ${fault.recoveryMs === undefined ? 'NOT recovered' : `write acknowledged ${fault.recoveryMs} ms after the heal`}`,
    );
    return fault;
  }

  private database(kind: FaultKind): PatroniCluster {
    if (!this.t.database) throw new Error(`${kind} needs the run's PostgreSQL to be a Patroni cluster`);
    return this.t.database;
  }
}
