/**
 * `npm run fuzz`: hostile datagrams at every node's UDP port and malformed GraphQL requests at the
 * gateway (and the leader), against a running cluster — by default the one `npm start` runs.
 *
 *   npm run fuzz -- [--datagrams N] [--seed S] [--graphql-cases N] [--only datagrams|graphql]
 *                   [--gateway URL] [--node-urls URL,…] [--peers id@host:port,…] [--max-upload-bytes B]
 *
 * Also from the environment: GATEWAY_URL, NODE_URLS, PEERS (as the nodes take it),
 * CLUSTER_SECRET, API_TOKEN (else .data/cluster-secret, .data/api-token), CLUSTER_ID,
 * MAX_UPLOAD_BYTES, ENSEMBLE_NODES. Prints a result table; exits 1 on any violation.
 */

import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_UPLOAD_BYTES } from '../common/limits.js';
import { DROP_REASONS } from '../nodes/transport/datagram-codec.js';
import { parsePeers } from '../nodes/transport/udp-transport.js';
import { DATAGRAM_FAMILIES } from './datagram-fuzzer.js';
import {
  type ClusterFuzzResult,
  type FuzzNode,
  fuzzClusterDatagrams,
  getJson,
  healthz,
} from './fuzz-cluster.js';
import { GRAPHQL_FAMILIES, type GraphqlFuzzSummary, graphqlCases, runGraphqlFuzz } from './graphql-fuzzer.js';

const { values } = parseArgs({
  options: {
    datagrams: { type: 'string' },
    seed: { type: 'string' },
    'graphql-cases': { type: 'string' },
    only: { type: 'string' },
    gateway: { type: 'string' },
    'node-urls': { type: 'string' },
    peers: { type: 'string' },
    'max-upload-bytes': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'npm run fuzz -- [--datagrams N per node] [--seed S] [--graphql-cases N] [--only datagrams|graphql]\n' +
      '                [--gateway URL] [--node-urls URL,…] [--peers id@host:port,…] [--max-upload-bytes B]\n',
  );
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n`);
  process.exit(2);
}

function positiveInt(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) fail(`${name} must be a whole number >= 0, got "${text}"`);
  return n;
}

function fromDataDir(file: string, env: string | undefined): string | undefined {
  if (env) return env;
  const path = `.data/${file}`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

const size = positiveInt(process.env.ENSEMBLE_NODES, 3, 'ENSEMBLE_NODES');
const ids = Array.from({ length: size }, (_, i) => i + 1);
const gatewayUrl = (values.gateway ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
const nodeUrls = (
  values['node-urls'] ??
  process.env.NODE_URLS ??
  ids.map((i) => `http://127.0.0.1:${4000 + i}`).join(',')
)
  .split(',')
  .map((u) => u.trim().replace(/\/$/, ''))
  .filter((u) => u !== '');
const peers = parsePeers(
  values.peers ?? process.env.PEERS ?? ids.map((i) => `n${i}@127.0.0.1:${5000 + i}`).join(','),
);
const secret = fromDataDir('cluster-secret', process.env.CLUSTER_SECRET);
const token = fromDataDir('api-token', process.env.API_TOKEN);
const clusterId = process.env.CLUSTER_ID ?? 'ensemble';
const perNode = positiveInt(values.datagrams, 1_000_000, '--datagrams');
const seed = positiveInt(values.seed, Date.now() % 1_000_000_000, '--seed');
const extraCases = positiveInt(values['graphql-cases'], 300, '--graphql-cases');
const maxUploadBytes = positiveInt(
  values['max-upload-bytes'] ?? process.env.MAX_UPLOAD_BYTES,
  DEFAULT_MAX_UPLOAD_BYTES,
  '--max-upload-bytes',
);
const only = values.only;
if (only !== undefined && only !== 'datagrams' && only !== 'graphql') fail('--only is datagrams or graphql');

function table(rows: readonly (readonly (string | number)[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) =>
          typeof cell === 'number'
            ? String(cell).padStart(widths[i] ?? 0)
            : String(cell).padEnd(widths[i] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

async function nodesFromUrls(): Promise<FuzzNode[]> {
  const nodes: FuzzNode[] = [];
  for (const url of nodeUrls) {
    const h = await healthz({ id: '?', host: '', udpPort: 0, url }).catch((error: Error) =>
      fail(`cannot read ${url}/healthz: ${error.message}`),
    );
    const peer =
      peers.find((p) => p.id === h.id) ?? fail(`${url} is node ${h.id}, which --peers does not name`);
    nodes.push({ id: h.id, host: peer.host, udpPort: peer.port, url });
  }
  return nodes;
}

async function gatewayMetricDrops(): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`${gatewayUrl}/metrics`);
    if (!res.ok) return null;
    const drops = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      // One series per reason: their sum is the node's total.
      const m = /^ensemble_node_datagrams_dropped\{node="([^"]+)",reason="[^"]+"\} (\d+)/.exec(line);
      if (m) drops.set(m[1] as string, (drops.get(m[1] as string) ?? 0) + Number(m[2]));
    }
    return drops;
  } catch {
    return null;
  }
}

function reportDatagrams(r: ClusterFuzzResult, gatewayDrops: Map<string, number> | null): string[] {
  const problems: string[] = [];
  const header = ['', ...r.nodes.map((n) => `${n.node} (${n.before.role})`), 'all'];
  const rows: (string | number)[][] = [header];
  const sum = (f: (n: ClusterFuzzResult['nodes'][number]) => number) => r.nodes.reduce((s, n) => s + f(n), 0);
  for (const f of DATAGRAM_FAMILIES) {
    rows.push([`sent: ${f}`, ...r.nodes.map((n) => n.blast.byFamily[f]), sum((n) => n.blast.byFamily[f])]);
  }
  rows.push(['sent', ...r.nodes.map((n) => n.blast.sent), r.sent]);
  for (const reason of DROP_REASONS) {
    rows.push([
      `dropped: ${reason} (expected)`,
      ...r.nodes.map((n) => `${n.dropped[reason]} (${n.blast.expected[reason] ?? 0})`),
      sum((n) => n.dropped[reason]),
    ]);
  }
  rows.push(['dropped, counted by the node', ...r.nodes.map((n) => n.dropped.total), r.counted]);
  if (gatewayDrops) {
    rows.push([
      'gateway metric (drops, all time)',
      ...r.nodes.map((n) => gatewayDrops.get(n.node) ?? '-'),
      '',
    ]);
  }
  rows.push(['accepted / sent by nodes', ...r.nodes.map((n) => `${n.accepted} / ${n.sentByNode}`), '']);
  rows.push(['term before → after', ...r.nodes.map((n) => `${n.before.term} → ${n.after.term}`), '']);
  rows.push(['leader before → after', ...r.nodes.map((n) => `${n.before.leader} → ${n.after.leader}`), '']);
  process.stdout.write(
    `\nDatagrams (seed ${seed}): ${(r.ms / 1000).toFixed(1)} s, ${Math.round(r.sent / (r.ms / 1000))}/s\n`,
  );
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write(
    `kernel receive-buffer drops meanwhile (all sockets): ${r.kernelDrops ?? 'unknown'}; counted + kernel = ${r.counted + (r.kernelDrops ?? 0)} of ${r.sent}\n`,
  );
  for (const n of r.nodes) {
    if (n.after.term !== n.before.term) problems.push(`${n.node}: term ${n.before.term} → ${n.after.term}`);
    if (n.after.leader !== r.leader) problems.push(`${n.node}: follows ${n.after.leader}, not ${r.leader}`);
    for (const reason of DROP_REASONS) {
      if (n.dropped[reason] > (n.blast.expected[reason] ?? 0)) {
        problems.push(
          `${n.node}: more ${reason} drops (${n.dropped[reason]}) than sent (${n.blast.expected[reason] ?? 0})`,
        );
      }
    }
  }
  const accepted = sum((n) => n.accepted);
  const sentByNodes = sum((n) => n.sentByNode);
  if (accepted > sentByNodes + 30)
    problems.push(`nodes accepted ${accepted} messages but sent each other ${sentByNodes}`);
  return problems;
}

function reportGraphql(where: string, s: GraphqlFuzzSummary, storedDelta: number): string[] {
  process.stdout.write(`\nGraphQL at ${where}: ${s.outcomes.length} cases\n`);
  const rows: (string | number)[][] = [['family', 'cases']];
  for (const f of GRAPHQL_FAMILIES) rows.push([f, s.byFamily[f]]);
  process.stdout.write(`${table(rows)}\n`);
  const codes: (string | number)[][] = [['extensions.code', 'cases']];
  for (const [code, n] of Object.entries(s.byCode).sort((a, b) => b[1] - a[1])) codes.push([code, n]);
  process.stdout.write(`${table(codes)}\n`);
  process.stdout.write(
    `HTTP statuses: ${JSON.stringify(s.byStatus)}; unclear answers: ${s.problems.length}; stored: ${storedDelta}\n`,
  );
  const problems = s.problems.map(
    (o) => `${where}: ${o.case.family} / ${o.case.name}: ${o.problem} (HTTP ${o.status})`,
  );
  if (storedDelta !== 0) problems.push(`${where}: the log's head moved by ${storedDelta}`);
  return problems;
}

async function headPosition(base: string): Promise<number> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ headPosition }' }),
  });
  const body = (await res.json()) as { data?: { headPosition?: number } };
  if (typeof body.data?.headPosition !== 'number')
    throw new Error(`${base}: no headPosition: ${JSON.stringify(body)}`);
  return body.data.headPosition;
}

async function main(): Promise<void> {
  const problems: string[] = [];
  const nodes = await nodesFromUrls();
  if (only !== 'graphql') {
    if (!secret)
      fail('CLUSTER_SECRET is needed (or .data/cluster-secret) to sign the frames nodes must refuse');
    process.stdout.write(
      `Sending ${perNode} hostile datagrams to each of ${nodes.map((n) => `${n.id}@${n.host}:${n.udpPort}`).join(', ')}…\n`,
    );
    let lastPrint = 0;
    const progress = new Map<string, number>();
    const result = await fuzzClusterDatagrams({
      nodes,
      secret,
      clusterId,
      seed,
      perNode,
      onProgress: (node, n) => {
        progress.set(node, n);
        if (process.stdout.isTTY && Date.now() - lastPrint > 1000) {
          lastPrint = Date.now();
          process.stdout.write(`\r  taken in: ${[...progress].map(([id, k]) => `${id} ${k}`).join(', ')}   `);
        }
      },
    });
    if (process.stdout.isTTY) process.stdout.write('\n');
    // The gateway reads the nodes' counters on its health checks: give it one round.
    await new Promise((r) => setTimeout(r, 1_000));
    problems.push(...reportDatagrams(result, await gatewayMetricDrops()));
  }
  if (only !== 'datagrams') {
    if (!token) fail('API_TOKEN is needed (or .data/api-token) so that writes get past authentication');
    const states = await Promise.all(nodes.map(healthz));
    const leader = nodes.find((n) => states.find((s) => s.id === n.id)?.role === 'leader');
    const targets = [gatewayUrl, ...(leader ? [leader.url] : [])];
    for (const [i, base] of targets.entries()) {
      const before = await headPosition(gatewayUrl);
      const cases = graphqlCases({ seed: seed + i, apiToken: token, maxUploadBytes, extra: extraCases });
      const summary = await runGraphqlFuzz(base, cases);
      const after = await headPosition(gatewayUrl);
      problems.push(
        ...reportGraphql(
          base === gatewayUrl ? `the gateway (${base})` : `the leader ${leader?.id} (${base})`,
          summary,
          after - before,
        ),
      );
    }
  }
  const down: string[] = [];
  for (const n of nodes) {
    await getJson(`${n.url}/healthz`).catch(() => down.push(n.id));
  }
  process.stdout.write(
    `\nCrashes: ${down.length}${down.length ? ` (${down.join(', ')} not answering)` : ''}\n`,
  );
  problems.push(...down.map((id) => `${id} does not answer /healthz`));
  if (problems.length > 0) {
    process.stdout.write(`\nViolations (seed ${seed}):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`\nViolations: 0 (seed ${seed})\n`);
  process.exit(0);
}

main().catch((error: Error) => fail(error.stack ?? error.message));
