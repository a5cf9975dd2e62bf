import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { ANNOUNCE_PATH, SIGNATURE_HEADER, signBody, verifyAnnouncement } from '../../common/announcement.js';
import { GatewayAnnouncer } from './gateway-announcer.js';

const SECRET = 'announce-test-secret-0123456789';

function announcerFor(server: Server, nodeId = 'n1'): GatewayAnnouncer {
  return new GatewayAnnouncer({
    gatewayUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secret: SECRET,
    clusterId: 'ensemble',
    nodeId,
    nodeUrl: `http://127.0.0.1:400${nodeId.slice(1)}`,
    logger: pino({ level: 'silent' }),
  });
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('the leader retries until the gateway acknowledges a correctly signed announcement', async () => {
  const seen: { status: number; verified: boolean }[] = [];
  let acknowledged: (a: unknown) => void = () => {};
  const done = new Promise((r) => {
    acknowledged = r;
  });
  // A gateway that is "down" (503) twice, then accepts.
  const server = createServer(async (req, res) => {
    const text = await body(req);
    const v = verifyAnnouncement(
      SECRET,
      'ensemble',
      text,
      req.headers[SIGNATURE_HEADER] as string | undefined,
    );
    const status = seen.length < 2 ? 503 : 200;
    seen.push({ status, verified: v.ok && req.url === ANNOUNCE_PATH });
    res.writeHead(status).end();
    if (status === 200 && v.ok) acknowledged(v.announcement);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const announcer = announcerFor(server, 'n2');
  const outcome = announcer.announce(7, () => true);
  const a = (await done) as { nodeId: string; term: number; url: string };
  assert.equal(await outcome, 'acknowledged');
  assert.deepEqual([a.nodeId, a.term, a.url], ['n2', 7, 'http://127.0.0.1:4002']);
  assert.deepEqual(
    seen.map((s) => [s.status, s.verified]),
    [
      [503, true],
      [503, true],
      [200, true],
    ],
  );
  server.close();
});

test('a 409 (the gateway knows a newer term) ends the announcement', async () => {
  const server = createServer((_req, res) => res.writeHead(409).end('term 5 is known'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const announcer = announcerFor(server);
  assert.equal(await announcer.announce(4, () => true), 'refused');
  server.close();
});

test('announcements are verified: signature, cluster, shape and age', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');
  const good = JSON.stringify({
    clusterId: 'ensemble',
    nodeId: 'n1',
    url: 'http://n1:4001',
    term: 3,
    at: new Date(now).toISOString(),
  });
  assert.equal(verifyAnnouncement(SECRET, 'ensemble', good, signBody(SECRET, good), now).ok, true);
  const cases: [string, string, string | undefined, RegExp][] = [
    ['unsigned', good, undefined, /unsigned/],
    ['forged', good, signBody('another-secret-0123456789', good), /bad signature/],
    ['tampered', good.replace('"term":3', '"term":9'), signBody(SECRET, good), /bad signature/],
    [
      'another cluster',
      good.replace('ensemble', 'other'),
      signBody(SECRET, good.replace('ensemble', 'other')),
      /wrong cluster/,
    ],
    ['not JSON', 'term=3', signBody(SECRET, 'term=3'), /not JSON/],
    ['bad shape', '{"term":"x"}', signBody(SECRET, '{"term":"x"}'), /malformed/],
  ];
  for (const [name, text, signature, reason] of cases) {
    const v = verifyAnnouncement(SECRET, 'ensemble', text, signature, now);
    assert.ok(!v.ok && reason.test(v.reason), `${name}: ${JSON.stringify(v)}`);
  }
  const old = verifyAnnouncement(SECRET, 'ensemble', good, signBody(SECRET, good), now + 60_000);
  assert.ok(!old.ok && /stale/.test(old.reason), 'a replayed (old) announcement is refused');
});

test('an announcement stops when this node no longer leads', async () => {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(503).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let leading = true;
  const announcer = announcerFor(server);
  const outcome = announcer.announce(1, () => leading);
  while (calls < 2) await once(server, 'request');
  leading = false;
  const at = calls;
  assert.equal(await outcome, 'abandoned');
  assert.equal(calls, at, 'no attempt after this node stopped leading');
  server.close();
});
