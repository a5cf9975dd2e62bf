/**
 * A private etcd cluster from Debian's etcd-server package (3.4), for the local stack's Patroni, the
 * tests and the failover benchmark: three members (by default) on loopback, each with its own client
 * and peer port and its own data directory, run as children of this process. One member can be
 * killed, stopped and started again (it rejoins on its kept data), and the leader is looked up
 * through etcd's v3 HTTP (JSON gateway) API, so no etcdctl is needed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ServerProcess,
  startServerProcess,
  stopServerProcess,
  waitUntilReady,
} from './child-process.js';
import { requireDebianPackage } from './debian-packages.js';

const etcdBinary = '/usr/bin/etcd';

export interface EtcdClusterOptions {
  /** Each member's data goes to dataDir/<name>; a restart on the same dataDir keeps the cluster. */
  readonly dataDir: string;
  /** Member i listens for clients on basePort + 2i and for peers on basePort + 2i + 1. */
  readonly basePort: number;
  /** Default 3. */
  readonly size?: number;
  /** Default 100 ms, etcd's own. */
  readonly heartbeatMs?: number;
  /** Default 1000 ms, etcd's own; etcd refuses less than 5 × heartbeatMs. */
  readonly electionTimeoutMs?: number;
  /** Raft's PreVote (`--pre-vote`), so a member back from a partition does not depose the leader. Default true. */
  readonly preVote?: boolean;
  readonly onLog?: (member: string, line: string) => void;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
}

export interface EtcdMember {
  readonly name: string;
  /** http://127.0.0.1:<client port> */
  readonly clientUrl: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
}

export interface EtcdLeader {
  /** The member's name, e.g. "etcd1". */
  readonly name: string;
  /**
   * The Raft term it leads, as etcd reports it: the term of the last entry it applied, which catches
   * up with the election once the new leader has committed its first entry (a few ms).
   */
  readonly term: number;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, for clients that take a list (Patroni's etcd3.hosts, etcd clients). */
  readonly clientUrls: readonly string[];
  /** The members whose process runs. */
  running(): string[];
  /** The process id of a running member. */
  pid(name: string): number;
  /**
   * The leader as the running members see it: undefined while they have none or do not agree
   * (during an election), or when none answers.
   */
  leader(): Promise<EtcdLeader | undefined>;
  /** Poll leader() until there is one (other than `not`, a member known to be gone or deposed). */
  waitForLeader(options?: { not?: string; timeoutMs?: number; pollMs?: number }): Promise<EtcdLeader>;
  /** SIGKILL one member, as when its host dies; resolves once the process is gone. */
  kill(name: string): Promise<void>;
  /** Stop one member cleanly (SIGTERM). */
  stopMember(name: string): Promise<void>;
  /** Start a killed or stopped member again on its data; resolves once it serves (the cluster has a leader). */
  startMember(name: string): Promise<void>;
  /** Stop every member; nothing of the cluster runs afterwards. */
  stop(): Promise<void>;
}

/** The timing flags etcd would refuse, as one clear error. */
export function validateEtcdTiming(heartbeatMs: number, electionTimeoutMs: number): void {
  for (const [name, value] of [
    ['heartbeatMs', heartbeatMs],
    ['electionTimeoutMs', electionTimeoutMs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`etcd ${name} must be a whole number of milliseconds ≥ 1 (got ${value})`);
    }
  }
  if (electionTimeoutMs < 5 * heartbeatMs) {
    throw new Error(
      `etcd election timeout ${electionTimeoutMs} ms is under 5 × the heartbeat of ${heartbeatMs} ms: etcd refuses to start (give at least ${5 * heartbeatMs} ms)`,
    );
  }
  if (electionTimeoutMs > 50_000) {
    throw new Error(`etcd election timeout ${electionTimeoutMs} ms is over etcd's maximum of 50000 ms`);
  }
}

export function requireEtcd(onLog?: (line: string) => void): string {
  requireDebianPackage('etcd-server', () => existsSync(etcdBinary), onLog);
  return etcdBinary;
}

export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const heartbeatMs = options.heartbeatMs ?? 100;
  const electionTimeoutMs = options.electionTimeoutMs ?? 1000;
  if (!Number.isInteger(size) || size < 1) throw new Error(`etcd cluster size must be ≥ 1 (got ${size})`);
  validateEtcdTiming(heartbeatMs, electionTimeoutMs);
  if (!Number.isInteger(options.basePort) || options.basePort < 1 || options.basePort + 2 * size > 65_536) {
    throw new Error(`etcd basePort ${options.basePort} leaves no room for ${2 * size} ports`);
  }
  const binary = requireEtcd((line) => options.onLog?.('etcd', line));
  const dataDir = resolve(options.dataDir);
  const members: EtcdMember[] = Array.from({ length: size }, (_, i) => {
    const name = `etcd${i + 1}`;
    const clientPort = options.basePort + 2 * i;
    return {
      name,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      clientPort,
      peerPort: clientPort + 1,
      dataDir: join(dataDir, name),
    };
  });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  const processes = new Map<string, ServerProcess>();
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  const member = (name: string): EtcdMember => {
    const found = members.find((m) => m.name === name);
    if (!found)
      throw new Error(`no etcd member "${name}" (members: ${members.map((m) => m.name).join(', ')})`);
    return found;
  };

  /** Start the process; resolve once the member reports itself healthy (it has a leader). */
  const launch = async (m: EtcdMember): Promise<void> => {
    if (processes.has(m.name)) throw new Error(`etcd member ${m.name} is already running`);
    mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
    const server = startServerProcess(
      binary,
      [
        `--name=${m.name}`,
        `--data-dir=${m.dataDir}`,
        `--listen-client-urls=${m.clientUrl}`,
        `--advertise-client-urls=${m.clientUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
        // Read on the first start only; a member restarted on its data takes the cluster from there.
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=ensemble-${options.basePort}`,
        `--heartbeat-interval=${heartbeatMs}`,
        `--election-timeout=${electionTimeoutMs}`,
        ...((options.preVote ?? true) ? ['--pre-vote'] : []),
        '--logger=zap',
        '--log-outputs=stderr',
      ],
      { onLog: (line) => options.onLog?.(m.name, line) },
    );
    processes.set(m.name, server);
    void server.exited.then(() => {
      if (processes.get(m.name) === server) processes.delete(m.name);
    });
    await waitUntilReady(server, {
      what: `etcd member ${m.name} (client port ${m.clientPort})`,
      timeoutMs: readyTimeoutMs,
      probe: async () => {
        const response = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json()) as { health?: string };
        if (body.health !== 'true') throw new Error(`health: ${JSON.stringify(body)}`);
      },
    });
  };

  const stopMember = async (name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    member(name);
    const server = processes.get(name);
    if (!server) return;
    if (signal === 'SIGKILL') {
      server.child.kill('SIGKILL');
      await server.exited;
    } else {
      await stopServerProcess(server);
    }
  };

  let names: Map<string, string> | undefined;
  const leader = async (): Promise<EtcdLeader | undefined> => {
    const views = await Promise.all(
      members.filter((m) => processes.has(m.name)).map((m) => leaderAsSeenBy(m.clientUrl)),
    );
    const answers = views.filter((v) => v !== undefined);
    const first = answers[0];
    if (!first || answers.some((v) => v.leaderId !== first.leaderId)) return undefined;
    // The leader itself must answer and call itself leader (a dead one is still named by its
    // followers until they time out); its term is the freshest.
    const own = answers.find((v) => v.memberId === first.leaderId);
    if (!own) return undefined;
    // Member ids never change: ask for them once.
    names ??= await memberNames(answers.map((a) => a.url));
    const name = names?.get(first.leaderId);
    return name ? { name, term: own.term } : undefined;
  };

  // A leader stopped while its followers stop too waits seconds to hand its leadership over to one
  // of them: stop the followers first, then the leader, which then has nobody to hand over to.
  const stop = async () => {
    const leading = await leader().catch(() => undefined);
    await Promise.all(
      members.filter((m) => m.name !== leading?.name).map((m) => stopMember(m.name, 'SIGTERM')),
    );
    if (leading) await stopMember(leading.name, 'SIGTERM');
  };

  // A member is healthy only once a quorum has started: launch all together.
  const started = await Promise.allSettled(members.map(launch));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }

  return {
    members,
    clientUrls: members.map((m) => m.clientUrl),
    running: () => members.filter((m) => processes.has(m.name)).map((m) => m.name),
    pid: (name) => {
      member(name);
      const pid = processes.get(name)?.child.pid;
      if (pid === undefined) throw new Error(`etcd member ${name} is not running`);
      return pid;
    },
    leader,
    async waitForLeader({ not, timeoutMs = 10_000, pollMs = 5 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await leader();
        if (found && found.name !== not) return found;
        if (Date.now() >= deadline) {
          throw new Error(
            `etcd: no leader${not ? ` other than ${not}` : ''} within ${timeoutMs} ms (running: ${members
              .filter((m) => processes.has(m.name))
              .map((m) => m.name)
              .join(', ')})`,
          );
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    kill: (name) => stopMember(name, 'SIGKILL'),
    stopMember: (name) => stopMember(name, 'SIGTERM'),
    startMember: (name) => launch(member(name)),
    stop,
  };
}

/** POST to etcd's v3 JSON gateway (every field of a request is optional, so {} is a valid body). */
async function etcdRpc<T>(clientUrl: string, path: string): Promise<T> {
  const response = await fetch(`${clientUrl}/v3/${path}`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(1_000),
  });
  if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** One member's view: its id, the id of the leader it follows (uint64s come as strings) and its term. */
async function leaderAsSeenBy(
  url: string,
): Promise<{ url: string; memberId: string; leaderId: string; term: number } | undefined> {
  try {
    const status = await etcdRpc<{ header?: { member_id?: string }; leader?: string; raftTerm?: string }>(
      url,
      'maintenance/status',
    );
    // "0" or absent: it knows of no leader.
    if (!status.leader || status.leader === '0') return undefined;
    return {
      url,
      memberId: status.header?.member_id ?? '',
      leaderId: status.leader,
      term: Number(status.raftTerm ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** Member id → name, from the first member that answers. */
async function memberNames(urls: string[]): Promise<Map<string, string> | undefined> {
  for (const url of urls) {
    try {
      const list = await etcdRpc<{ members?: { ID: string; name: string }[] }>(url, 'cluster/member/list');
      return new Map((list.members ?? []).map((m) => [m.ID, m.name]));
    } catch {}
  }
  return undefined;
}
