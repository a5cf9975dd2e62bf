/**
 * The datagram fuzz against a running cluster, shared by `npm run fuzz` and the process test:
 * reads every node's /healthz (role, term, leader, datagram counters), blasts every node's UDP
 * port at once, waits for the nodes to have taken in what reached them, and reports per node
 * what was sent, what the node counted, what the kernel dropped, and whether anything moved.
 */
import { readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { HEALTHZ_PATH, type NodeHealth } from '../common/node-health.js';
import type { DropReason } from '../nodes/transport/datagram-codec.js';
import { DROP_REASONS } from '../nodes/transport/datagram-codec.js';
import {
  type BlastResult,
  blastDatagrams,
  DatagramFuzzer,
  type DatagramFuzzerOptions,
} from './datagram-fuzzer.js';

export interface FuzzNode {
  readonly id: string;
  /** Where its UDP port is. */
  readonly host: string;
  readonly udpPort: number;
  /** Its HTTP base URL (for /healthz). */
  readonly url: string;
}

/** A node's /healthz body, its drop counters keyed by the codec's reasons. */
export type NodeHealthz = NodeHealth & {
  readonly datagrams: { readonly dropped: Record<DropReason, number> & { total: number } };
};

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** GET a JSON document over a kept-alive connection (cheaper than fetch when asked thousands of
 * times), without Nagle: a request held back for the delayed ACK of the last one costs 40 ms. */
export function getJson<T>(url: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        try {
          if ((res.statusCode ?? 0) >= 400)
            throw new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
          resolve(JSON.parse(text) as T);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('socket', (socket) => socket.setNoDelay(true));
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function healthz(node: FuzzNode): Promise<NodeHealthz> {
  return getJson<NodeHealthz>(`${node.url}${HEALTHZ_PATH}`);
}

/** Datagrams the kernel dropped because a receiver's buffer was full (this network namespace,
 * every socket: an upper bound for ours), or null where /proc/net/snmp cannot be read. */
export function kernelUdpBufferDrops(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/);
    const at = names.indexOf('RcvbufErrors');
    return at < 0 ? null : Number(values[at]);
  } catch {
    return null;
  }
}

/** The leader every node agrees on, or an error naming what each one says. */
export async function agreedLeader(nodes: readonly FuzzNode[]): Promise<{ leader: string; term: number }> {
  const states = await Promise.all(nodes.map(healthz));
  const first = states[0];
  const agreed =
    first?.leader && states.every((s) => s.leader === first.leader && s.term === first.term)
      ? first
      : undefined;
  if (!agreed?.leader) {
    throw new Error(
      `the nodes do not agree on a leader: ${states.map((s) => `${s.id}: ${s.leader} in term ${s.term}`).join(', ')}`,
    );
  }
  return { leader: agreed.leader, term: agreed.term };
}

export interface NodeFuzzResult {
  readonly node: string;
  readonly before: NodeHealthz;
  readonly after: NodeHealthz;
  readonly blast: BlastResult;
  /** Drops the node counted while the fuzz ran, by reason. */
  readonly dropped: Record<DropReason, number> & { total: number };
  /** Messages the node accepted while the fuzz ran (its peers' real traffic). */
  readonly accepted: number;
  /** Messages the node sent while the fuzz ran. */
  readonly sentByNode: number;
}

export interface ClusterFuzzResult {
  readonly leader: string;
  readonly term: number;
  readonly nodes: readonly NodeFuzzResult[];
  readonly sent: number;
  readonly counted: number;
  /** RcvbufErrors while the fuzz ran (every socket here), or null where unknown. */
  readonly kernelDrops: number | null;
  readonly ms: number;
}

export interface ClusterFuzzOptions {
  readonly nodes: readonly FuzzNode[];
  readonly secret: string;
  readonly clusterId: string;
  readonly seed: number;
  /** Datagrams per node. */
  readonly perNode: number;
  readonly batch?: number;
  readonly window?: number;
  readonly weights?: DatagramFuzzerOptions['weights'];
  readonly onProgress?: (node: string, sent: number) => void;
}

const arrivalsOf = (h: NodeHealthz): number => h.datagrams.dropped.total + h.datagrams.received;

/**
 * Fuzzes every node at once. Replays claim to come from a peer the node has heard from (its
 * leader; the leader's first follower), so the cluster must agree on a leader first.
 */
export async function fuzzClusterDatagrams(options: ClusterFuzzOptions): Promise<ClusterFuzzResult> {
  const { nodes } = options;
  const { leader, term } = await agreedLeader(nodes);
  const ids = nodes.map((n) => n.id);
  const before = await Promise.all(nodes.map(healthz));
  const kernelBefore = kernelUdpBufferDrops();
  const started = performance.now();
  const blasts = await Promise.all(
    nodes.map((node, i) => {
      const peers = ids.filter((id) => id !== node.id);
      const fuzzer = new DatagramFuzzer({
        seed: options.seed * 1_000 + i,
        secret: options.secret,
        clusterId: options.clusterId,
        self: node.id,
        peers,
        heardFrom: node.id === leader ? (peers[0] as string) : leader,
        now: Date.now,
        ...(options.weights ? { weights: options.weights } : {}),
      });
      return blastDatagrams({
        host: node.host,
        port: node.udpPort,
        fuzzer,
        count: options.perNode,
        batch: options.batch ?? 128,
        window: options.window ?? 512,
        arrivals: async () => {
          const h = await healthz(node);
          options.onProgress?.(node.id, arrivalsOf(h) - arrivalsOf(before[i] as NodeHealthz));
          return arrivalsOf(h);
        },
      });
    }),
  );
  // What is still in the sockets' buffers is read within moments: wait until the counts stop.
  const after = await Promise.all(
    nodes.map(async (node, i) => {
      let last = await healthz(node);
      const target = arrivalsOf(before[i] as NodeHealthz) + (blasts[i] as BlastResult).sent;
      for (;;) {
        if (arrivalsOf(last) >= target) return last;
        await new Promise((r) => setTimeout(r, 50));
        const next = await healthz(node);
        if (arrivalsOf(next) === arrivalsOf(last)) return next;
        last = next;
      }
    }),
  );
  const ms = performance.now() - started;
  const kernelAfter = kernelUdpBufferDrops();
  const results = nodes.map((node, i): NodeFuzzResult => {
    const b = before[i] as NodeHealthz;
    const a = after[i] as NodeHealthz;
    const dropped = {
      total: a.datagrams.dropped.total - b.datagrams.dropped.total,
    } as NodeFuzzResult['dropped'];
    for (const r of DROP_REASONS) dropped[r] = (a.datagrams.dropped[r] ?? 0) - (b.datagrams.dropped[r] ?? 0);
    return {
      node: node.id,
      before: b,
      after: a,
      blast: blasts[i] as BlastResult,
      dropped,
      accepted: a.datagrams.received - b.datagrams.received,
      sentByNode: a.datagrams.sent - b.datagrams.sent,
    };
  });
  return {
    leader,
    term,
    nodes: results,
    sent: results.reduce((s, r) => s + r.blast.sent, 0),
    counted: results.reduce((s, r) => s + r.dropped.total, 0),
    kernelDrops: kernelBefore === null || kernelAfter === null ? null : kernelAfter - kernelBefore,
    ms,
  };
}
