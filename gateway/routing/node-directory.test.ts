/**
 * The node directory against a real HTTP server answering `/healthz` as a node does (a body of
 * the shared NodeHealth type): a node in a PreVote round is healthy and takes reads; a body that
 * breaks the contract makes the node unhealthy with a problem that names what is wrong.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { NodeHealth } from '../../common/node-health.js';
import { LeaderRegistry } from './leader-registry.js';
import { NodeDirectory } from './node-directory.js';

/** What an isolated node of a 3-node cluster answers: campaigning in PreVote, its term unchanged. */
const inPreVote: NodeHealth = {
  id: 'n1',
  url: 'http://127.0.0.1:4001',
  role: 'pre-candidate',
  term: 3,
  leader: null,
  leaderUrl: null,
  votedFor: null,
  writable: false,
  database: { standing: true, failingForMs: 0 },
  datagrams: { received: 12, sent: 40, dropped: { total: 1, replayed: 1 } },
};

let answer: { status: number; body: unknown } = { status: 200, body: inPreVote };
let server: Server;
let url: string;

function directoryOf(): NodeDirectory {
  return new NodeDirectory({
    seeds: [url],
    registry: new LeaderRegistry(),
    intervalMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
}

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    // The directory also asks a healthy node for the cluster's other nodes: there are none.
    const { status, body } =
      req.url === '/healthz' ? answer : { status: 200, body: { data: { cluster: { nodes: [] } } } };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('NodeDirectory health checks', () => {
  test('a node in a PreVote round is healthy and is handed out for reads', async () => {
    answer = { status: 200, body: inPreVote };
    const directory = directoryOf();
    await directory.refresh();
    const [node] = directory.all();
    assert.equal(node?.problem, null);
    assert.deepEqual(
      { healthy: node?.healthy, role: node?.role, term: node?.term, writable: node?.writable },
      { healthy: true, role: 'pre-candidate', term: 3, writable: false },
    );
    assert.deepEqual(node?.drops, { total: 1, replayed: 1 });
    assert.deepEqual(
      directory.inTurn().map((n) => n.id),
      ['n1'],
    );
  });

  test('a body that breaks the contract: unhealthy, and the problem names each wrong field', async () => {
    answer = { status: 200, body: { ...inPreVote, role: 'observer', term: -1 } };
    const directory = directoryOf();
    await directory.refresh();
    const [node] = directory.all();
    assert.equal(node?.healthy, false);
    assert.match(node?.problem ?? '', /the \/healthz body breaks the contract/);
    assert.match(node?.problem ?? '', /role: Invalid option/);
    assert.match(node?.problem ?? '', /term: /);
    assert.doesNotMatch(node?.problem ?? '', /answered 200/);
    assert.deepEqual(directory.inTurn(), []);
  });

  test('a status other than 200 is the problem', async () => {
    answer = { status: 503, body: inPreVote };
    const directory = directoryOf();
    await directory.refresh();
    assert.match(directory.all()[0]?.problem ?? '', /\/healthz answered 503$/);
  });
});
