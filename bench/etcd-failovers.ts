/**
 * etcd beside ensemble in the failover benchmarks: Debian's etcd-server, 3 members on loopback,
 * heartbeat 30 ms, election timeout 150 ms (etcd refuses under 5 heartbeats), PreVote on. The same
 * shape as ensemble's side: kill -9 the leader at a random phase of the heartbeat and time from
 * the kill (Date.now()) to the first pre-vote and the new leader (etcd's own log lines, whose
 * `ts` is wall-clock ms like ensemble's `time`), and, when asked, to the first `put` through a
 * survivor that is acknowledged (a client that sends it again until one is).
 */
import { setMaxListeners } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EtcdCluster, startEtcdCluster } from '../launcher/etcd-cluster.js';
import { postJson } from './http-client.js';

export const ETCD_HEARTBEAT_MS = 30;
export const ETCD_ELECTION_TIMEOUT_MS = 150;
const HEDGE_MS = 10;

/** Whether etcd can run here; when not, the one line that says how to get it. */
export function etcdMissing(): string | null {
  return existsSync('/usr/bin/etcd')
    ? null
    : 'etcd-server is not installed (`sudo apt-get install etcd-server` to compare with etcd): running ensemble alone';
}

export interface EtcdFailover {
  /** ms from the kill to the first survivor's "became pre-candidate". */
  readonly preVote: number;
  /** ms from the kill to "became leader" of a higher term. */
  readonly leader: number;
  /** ms from the kill to the first acknowledged put (when puts were asked for). */
  readonly ack: number | null;
  readonly termJump: number;
}

interface EtcdRecord {
  readonly member: string;
  readonly at: number;
  readonly msg: string;
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

export interface EtcdBench {
  /** Kill -9 the leader at a random phase of the heartbeat; measure; start it again. */
  failover(k: number): Promise<EtcdFailover>;
  stop(): Promise<void>;
}

/** A fresh 3-member etcd to kill leaders of (puts through a survivor when `withPut`). */
export async function startEtcdBench(options: {
  readonly basePort: number;
  readonly withPut: boolean;
}): Promise<EtcdBench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-bench-etcd-'));
  const records: EtcdRecord[] = [];
  let cluster: EtcdCluster;
  try {
    cluster = await startEtcdCluster({
      dataDir,
      basePort: options.basePort,
      heartbeatMs: ETCD_HEARTBEAT_MS,
      electionTimeoutMs: ETCD_ELECTION_TIMEOUT_MS,
      preVote: true,
      onLog: (member, line) => {
        if (!line.startsWith('{')) return;
        try {
          const r = JSON.parse(line) as { ts?: string; msg?: string };
          if (r.ts && r.msg) records.push({ member, at: Date.parse(r.ts), msg: r.msg });
        } catch {}
      },
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // A put a follower forwards to the dead leader is lost and answers only after etcd's 5 s
  // request timeout: the client sends it again every HEDGE_MS without waiting for the earlier
  // ones, and the first acknowledgement wins (etcd at its best: no client timeout to tune).
  const put = async (url: string, k: number, t0: number): Promise<number> => {
    const done = new AbortController();
    setMaxListeners(0, done.signal); // one listener per attempt in flight
    try {
      return await new Promise<number>((resolve, reject) => {
        const attempt = () => {
          if (done.signal.aborted) return;
          if (Date.now() - t0 > 30_000) reject(new Error(`etcd: no put acknowledged 30 s after kill ${k}`));
          const body = JSON.stringify({ key: base64('failover'), value: base64(`kill ${k}`) });
          postJson(`${url}/v3/kv/put`, body, {}, done.signal).then(
            (res) => {
              if (res.status === 200 && !res.text.includes('"error"')) resolve(Date.now() - t0);
            },
            () => {},
          );
          setTimeout(attempt, HEDGE_MS);
        };
        attempt();
      });
    } finally {
      done.abort();
    }
  };
  return {
    async failover(k) {
      const old = await cluster.waitForLeader({ timeoutMs: 30_000 });
      // A random phase of the heartbeat.
      await sleep(200 + Math.random() * ETCD_HEARTBEAT_MS);
      const survivors = cluster.members.filter((m) => m.name !== old.name);
      const through = survivors[Math.floor(Math.random() * survivors.length)] ?? survivors[0];
      if (!through) throw new Error('etcd: no survivor to write through');
      const from = records.length;
      const t0 = Date.now();
      await cluster.kill(old.name);
      const ack = options.withPut ? await put(through.clientUrl, k, t0) : null;
      const elected = await waitForRecord(records, from, /became leader at term (\d+)/);
      const pre = records.slice(from).find((r) => r.msg.includes('became pre-candidate'));
      await cluster.startMember(old.name);
      return {
        preVote: pre ? pre.at - t0 : Number.NaN,
        leader: elected.record.at - t0,
        ack,
        termJump: Number(elected.match[1]) - old.term,
      };
    },
    async stop() {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The first record from `from` on whose msg matches, waiting (bounded) for it to arrive. */
async function waitForRecord(
  records: readonly EtcdRecord[],
  from: number,
  pattern: RegExp,
): Promise<{ record: EtcdRecord; match: RegExpMatchArray }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const record of records.slice(from)) {
      const match = record.msg.match(pattern);
      if (match) return { record, match };
    }
    if (Date.now() > deadline) throw new Error(`etcd: no log line matching ${pattern} within 10 s`);
    await sleep(5);
  }
}
