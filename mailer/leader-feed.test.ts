import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { freePort } from '../test-support/postgres.js';
import { Backoff } from './backoff.js';
import type { LeaderChange } from './leader-change.js';
import { LeaderFeed } from './leader-feed.js';

interface Logged {
  readonly level: number;
  readonly msg: string;
}

/** A pino logger whose records are kept, with a wait for the first one that matches. */
function recordingLogger() {
  const records: Logged[] = [];
  const waiters: Array<{ match: (r: Logged) => boolean; resolve: (r: Logged) => void }> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const record = JSON.parse(line) as Logged;
        records.push(record);
        for (const w of waiters.filter((x) => x.match(record))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(record);
        }
      },
    },
  );
  const next = (msg: string) =>
    new Promise<Logged>((resolve) => waiters.push({ match: (r) => r.msg === msg, resolve }));
  return { logger, records, next };
}

/** The gateway's side of the feed: the real schema, a leader known, no change ever pushed. */
function startGatewayStandIn(port: number) {
  const schema = buildSchema(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));
  const leader = { id: 'n2', url: 'http://127.0.0.1:4002', role: 'LEADER', term: 3, lastSeenAt: null };
  const wss = new WebSocketServer({ port, host: '127.0.0.1', path: '/graphql' });
  useServer(
    {
      schema,
      roots: {
        query: { cluster: () => ({ term: 3, leader, nodes: [leader] }) },
        subscription: { leaderChanged: () => new Promise<never>(() => {}) },
      },
    },
    wss,
  );
  return {
    listening: once(wss, 'listening'),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

test('a mailer started before the gateway waits for it quietly, then connects; a later loss is a warning', {
  timeout: 15_000,
}, async () => {
  const port = await freePort();
  const { logger, records, next } = recordingLogger();
  const changes: LeaderChange[] = [];
  const stops: Array<() => Promise<void>> = [];
  const changed = new Promise<void>((resolve) => {
    const feed = new LeaderFeed({
      url: `ws://127.0.0.1:${port}/graphql`,
      logger,
      onChange: (change) => {
        changes.push(change);
        resolve();
      },
      backoff: new Backoff(20, 100),
    });
    feed.start();
    stops.push(() => feed.stop());
  });
  try {
    // Nothing listens yet: an info line per try, no warning.
    const waiting = await next('gateway not reachable yet; retrying');
    assert.equal(waiting.level, 30);
    await next('gateway not reachable yet; retrying');
    assert.ok(!records.some((r) => r.msg === 'leader feed lost; reconnecting'));

    const gateway = startGatewayStandIn(port);
    stops.unshift(() => gateway.close());
    await gateway.listening;
    await next('leader feed connected');
    await changed;
    assert.equal(changes[0]?.term, 3);
    assert.equal(changes[0]?.source, 'catch-up');

    // Once connected, losing the gateway is worth a warning.
    const lost = next('leader feed lost; reconnecting');
    await gateway.close();
    assert.equal((await lost).level, 40);
  } finally {
    for (const stop of stops) await stop();
  }
});
