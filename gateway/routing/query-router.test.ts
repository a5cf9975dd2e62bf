/**
 * The read router against real HTTP servers standing in for nodes: reads go where the fewest are
 * in flight, so a slow node gets few of them; equally idle nodes take turns; an unreachable one
 * is skipped and reported.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NodeState } from './node-directory.js';
import { QueryRouter } from './query-router.js';

interface FakeNode {
  readonly url: string;
  served: number;
  delayMs: number;
  readonly server: Server;
}

async function fakeNode(delayMs: number): Promise<FakeNode> {
  const node = { served: 0, delayMs } as FakeNode;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      node.served++;
      setTimeout(() => res.end('{"data":{}}'), node.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(node, { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return node;
}

/** A directory of the given urls, all healthy, handed out in turn like NodeDirectory's. */
function directory(urls: string[]) {
  let next = 0;
  const unhealthy: string[] = [];
  const states = urls.map((url) => ({ url, healthy: true }) as NodeState);
  return {
    unhealthy,
    inTurn: () => {
      const healthy = states.filter((s) => !unhealthy.includes(s.url));
      const start = next++ % Math.max(1, healthy.length);
      return [...healthy.slice(start), ...healthy.slice(0, start)];
    },
    all: () => states,
    markUnhealthy: (url: string) => {
      unhealthy.push(url);
    },
  };
}

describe('QueryRouter', () => {
  const nodes: FakeNode[] = [];
  before(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await fakeNode(2));
  });
  after(async () => {
    for (const n of nodes) {
      n.server.closeAllConnections();
      await new Promise((r) => n.server.close(r));
    }
  });

  const reset = (delays: number[]) =>
    nodes.forEach((n, i) => {
      n.served = 0;
      n.delayMs = delays[i] ?? 2;
    });

  test('equally idle nodes take turns', async () => {
    reset([2, 2, 2]);
    const router = new QueryRouter({ directory: directory(nodes.map((n) => n.url)), nodeTimeoutMs: 5_000 });
    for (let i = 0; i < 30; i++) await router.send('{}', {});
    assert.deepEqual(
      nodes.map((n) => n.served),
      [10, 10, 10],
    );
  });

  test('no read goes to a node that is still answering one while another node is idle', async () => {
    // Slow enough that the 20 fast reads are over long before it answers, even on a loaded machine.
    reset([3_000, 2, 2]);
    const router = new QueryRouter({ directory: directory(nodes.map((n) => n.url)), nodeTimeoutMs: 10_000 });
    // The first read goes to the slow node (first in turn) and is in flight for 3 s.
    const slowRead = router.send('{}', {});
    for (let i = 0; i < 20; i++) await router.send('{}', {});
    await slowRead;
    // In turns it would have got 7 of the 20, each held for 3 s.
    assert.deepEqual([nodes[0]?.served, (nodes[1]?.served ?? 0) + (nodes[2]?.served ?? 0)], [1, 20]);
  });

  test('oneNodePerTurn: the reads of one turn go to one node, the next turn to the least loaded', async () => {
    reset([50, 50, 50]);
    const router = new QueryRouter({
      directory: directory(nodes.map((n) => n.url)),
      nodeTimeoutMs: 5_000,
      oneNodePerTurn: true,
    });
    const first = Array.from({ length: 6 }, () => router.send('{}', {}));
    await new Promise((r) => setImmediate(r));
    const second = Array.from({ length: 4 }, () => router.send('{}', {}));
    await Promise.all([...first, ...second]);
    // Sorted: which node went first depends on the directory's turn, not on the rule.
    assert.deepEqual(
      nodes.map((n) => n.served).sort((a, b) => a - b),
      [0, 4, 6],
    );
  });

  test('an unreachable node is reported and the next one answers', async () => {
    reset([2, 2, 2]);
    const dead = 'http://127.0.0.1:1';
    const dir = directory([dead, ...nodes.map((n) => n.url)]);
    const router = new QueryRouter({ directory: dir, nodeTimeoutMs: 5_000 });
    const answer = await router.send('{}', {});
    assert.equal(answer.status, 200);
    assert.deepEqual(dir.unhealthy, [dead]);
  });
});
