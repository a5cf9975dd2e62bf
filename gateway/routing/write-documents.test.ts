/**
 * Previews of the write documents, against stand-in nodes over real HTTP: each follower is shown
 * each document once per process, the leader never; a node in a new process, or back, is shown
 * everything kept; a failed preview is shown again at the next occasion.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { PREVIEW_OPERATION } from '../../common/document-preview.js';
import type { NodeState } from './node-directory.js';
import { WriteDocuments } from './write-documents.js';

interface StandIn {
  readonly state: NodeState;
  readonly server: Server;
  /** The queries previewed to it, in order. */
  readonly seen: string[];
  /** Answers 500 to this many previews first. */
  failures: number;
}

const nodes: StandIn[] = [];

async function standIn(name: string): Promise<StandIn> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const node: StandIn = {
    state: {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      id: name,
      healthy: true,
      role: 'follower',
      term: 1,
      lastSeenAt: null,
      writable: false,
      drops: {},
      problem: null,
      database: null,
      startedAt: 'boot-1',
    },
    server,
    seen: [],
    failures: 0,
  };
  server.on('request', async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      query: string;
      operationName: string;
    };
    assert.equal(req.url, '/graphql');
    assert.equal(body.operationName, PREVIEW_OPERATION);
    if (node.failures > 0) {
      node.failures--;
      res.writeHead(500).end('busy');
    } else {
      node.seen.push(body.query);
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ message: `Unknown operation named "${PREVIEW_OPERATION}".` }] }));
    }
  });
  return node;
}

before(async () => {
  for (const name of ['n1', 'n2', 'n3']) nodes.push(await standIn(name));
});
after(() => {
  for (const n of nodes) n.server.close();
});

const nodeAt = (i: number) => nodes[i] as StandIn;
const leader = () => nodeAt(0);
const a = () => nodeAt(1);
const b = () => nodeAt(2);
/** Previews that ended (answered or failed), counted as the nodes' answers come back. */
let ended = 0;
const endedWaiters: Array<() => void> = [];
const onPreview = () => {
  ended++;
  for (const w of endedWaiters.splice(0)) w();
};
function previewsEnded(count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (ended >= count ? resolve() : endedWaiters.push(check));
    check();
  });
}

/** `query` forwarded twice, answered by the leader: it is kept, and previewed from the second. */
const twice = (documents: WriteDocuments, query: string) => {
  documents.forwarded(query, leader().state.url);
  documents.forwarded(query, `${leader().state.url}/`); // the registry's URL may end in a slash
};

test('each follower is shown a document once per process, the leader never; a new process is shown all', async () => {
  for (const n of nodes) n.seen.length = 0;
  const documents = new WriteDocuments({
    nodes: () => nodes.map((n) => n.state),
    logger: pino({ level: 'silent' }),
    onPreview,
  });
  leader().state.role = 'leader';
  // Once is not yet: a document with its values written in is new at every write.
  documents.forwarded('mutation Once { once }', leader().state.url);
  twice(documents, 'mutation A { a }');
  documents.forwarded('mutation A { a }', leader().state.url);
  twice(documents, 'mutation B { b }');
  await previewsEnded(4);
  assert.deepEqual(a().seen, ['mutation A { a }', 'mutation B { b }']);
  assert.deepEqual(b().seen, ['mutation A { a }', 'mutation B { b }']);
  assert.deepEqual(leader().seen, []);

  // Nothing new for a node whose process is the same; everything previewed for one restarted.
  documents.nodeChanged(a().state);
  b().state.startedAt = 'boot-2';
  documents.nodeChanged(b().state);
  await previewsEnded(6);
  assert.deepEqual(b().seen, [
    'mutation A { a }',
    'mutation B { b }',
    'mutation A { a }',
    'mutation B { b }',
  ]);
  assert.deepEqual(a().seen, ['mutation A { a }', 'mutation B { b }']);
});

test('a failed preview is shown again at the next occasion; only the most recent documents are kept', async () => {
  for (const n of nodes) n.seen.length = 0;
  const documents = new WriteDocuments({
    nodes: () => nodes.map((n) => n.state),
    logger: pino({ level: 'silent' }),
    maxDocuments: 2,
    onPreview,
  });
  a().failures = 1;
  const from = ended;
  twice(documents, 'mutation X { x }');
  // Both previews ended — a()'s with its 500 — before the next occasion.
  await previewsEnded(from + 2);
  assert.deepEqual(a().seen, []);
  assert.deepEqual(b().seen, ['mutation X { x }']);
  // The failed one is forgotten as shown: the next occasion shows it.
  twice(documents, 'mutation Y { y }');
  documents.nodeChanged(a().state);
  await previewsEnded(from + 5);
  assert.deepEqual(a().seen, ['mutation Y { y }', 'mutation X { x }']);

  twice(documents, 'mutation Z { z }');
  assert.equal(documents.size, 2);
  await previewsEnded(from + 7);
  b().state.startedAt = 'boot-3';
  b().seen.length = 0;
  documents.nodeChanged(b().state);
  await previewsEnded(from + 9);
  assert.deepEqual(b().seen, ['mutation Y { y }', 'mutation Z { z }']);
});

test('a document naming the preview operation is never previewed; none after stop', async () => {
  for (const n of nodes) n.seen.length = 0;
  const documents = new WriteDocuments({
    nodes: () => nodes.map((n) => n.state),
    logger: pino({ level: 'silent' }),
    onPreview,
  });
  // Its own operation of that name would run on the followers.
  twice(documents, `mutation A { a } query ${PREVIEW_OPERATION} { expensive }`);
  assert.equal(documents.size, 0);
  await documents.stop();
  twice(documents, 'mutation After { after }');
  documents.nodeChanged(a().state);
  assert.equal(documents.size, 0);
  assert.deepEqual(a().seen, []);
});
