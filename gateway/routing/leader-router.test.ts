/**
 * The write router through a failover, over a transport that stands in for the nodes: a write to
 * a dead leader waits for the registry's next leader (an event, whenever it comes) and goes there
 * with the same idempotency key, however many times the dead one was looked at again meanwhile.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { HttpUnreachableError } from '../../common/http-client.js';
import { IDEMPOTENCY_KEY_HEADER } from '../../common/http-headers.js';
import type { GatewayMetrics } from '../metrics.js';
import { LeaderRegistry } from './leader-registry.js';
import { LeaderRouter } from './leader-router.js';
import type { NodeTransport } from './node-batcher.js';
import type { NodeDirectory } from './node-directory.js';

const DEAD = 'http://dead';
const NEXT = 'http://next';

// The registry waits on AbortSignal.timeout, which does not hold the event loop open by itself
// (the gateway's server does): hold it for the tests.
const keepAlive = setInterval(() => {}, 1_000);
after(() => clearInterval(keepAlive));

function router(registry: LeaderRegistry, transport: NodeTransport, leaderWaitMs: number) {
  return new LeaderRouter({
    registry,
    directory: { markUnhealthy: () => {} } as unknown as NodeDirectory,
    leaderWaitMs,
    nodeTimeoutMs: 1_000,
    metrics: { retries: { inc: () => {} } } as unknown as GatewayMetrics,
    logger: pino({ level: 'silent' }),
    transport,
  });
}

test('a write outlives an election longer than its attempts, and goes to the winner with its key', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: DEAD, term: 1 });
  const sent: Array<{ url: string; key: string | undefined }> = [];
  let deadTries = 0;
  const transport: NodeTransport = {
    async send(url, _body, headers) {
      sent.push({ url, key: headers[IDEMPOTENCY_KEY_HEADER] });
      if (url === DEAD) {
        // The next leader is elected only after the dead one was looked at 15 times (over the
        // 12 attempts a write has); each look fails at once, as a refused connection does.
        if (++deadTries === 15) registry.accept({ id: 'n2', url: NEXT, term: 3 });
        throw new HttpUnreachableError(url, 'ECONNREFUSED');
      }
      return { status: 200, contentType: 'application/json', body: Buffer.from('{"data":{}}') };
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', { [IDEMPOTENCY_KEY_HEADER]: 'k-1' });
  assert.equal(res.leader.url, NEXT);
  assert.equal(deadTries, 15);
  assert.deepEqual(sent.at(-1), { url: NEXT, key: 'k-1' });
  assert.ok(sent.every((s) => s.key === 'k-1'));
});

test('with no leader other than a dead one, a write fails NO_LEADER once the leader wait is over', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: DEAD, term: 1 });
  const transport: NodeTransport = {
    send: async (url) => {
      throw new HttpUnreachableError(url, 'ECONNREFUSED');
    },
  };
  const started = Date.now();
  await assert.rejects(router(registry, transport, 300).send('{}', {}), { name: 'NoLeaderError' });
  assert.ok(Date.now() - started >= 300);
});

const unavailable = {
  status: 200,
  contentType: 'application/json',
  body: Buffer.from(
    JSON.stringify({
      data: null,
      errors: [{ message: 'the database primary changed', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
    }),
  ),
};

test('a write a database failover caught (SERVICE_UNAVAILABLE) is sent again with its key until acknowledged', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: NEXT, term: 1 });
  const sent: Array<string | undefined> = [];
  const transport: NodeTransport = {
    async send(_url, _body, headers) {
      sent.push(headers[IDEMPOTENCY_KEY_HEADER]);
      // The first attempt broke with the primary; the second came while none was writable.
      if (sent.length <= 2) return unavailable;
      return { status: 200, contentType: 'application/json', body: Buffer.from('{"data":{"ok":true}}') };
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', { [IDEMPOTENCY_KEY_HEADER]: 'k-2' });
  assert.equal(res.body.toString(), '{"data":{"ok":true}}');
  assert.equal(res.attempts, 3);
  assert.deepEqual(sent, ['k-2', 'k-2', 'k-2']);
});

test('a write whose database connection broke at once is resent at once, not after the resend spacing', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: NEXT, term: 1 });
  let sends = 0;
  const transport: NodeTransport = {
    send: async () =>
      ++sends === 1
        ? unavailable
        : { status: 200, contentType: 'application/json', body: Buffer.from('{"data":{"ok":true}}') },
  };
  // A leader wait shorter than the 100 ms between resends: only a resend at once gets through.
  const res = await router(registry, transport, 60).send('{}', {});
  assert.equal(res.body.toString(), '{"data":{"ok":true}}');
  assert.equal(sends, 2);
});

test('a database that stays without a primary past the leader wait: the client gets SERVICE_UNAVAILABLE', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: NEXT, term: 1 });
  let sends = 0;
  const transport: NodeTransport = {
    send: async () => {
      sends++;
      return unavailable;
    },
  };
  const started = Date.now();
  const res = await router(registry, transport, 350).send('{}', {});
  assert.ok(Date.now() - started >= 350);
  assert.match(res.body.toString(), /"SERVICE_UNAVAILABLE"/);
  // Refusals that come back at once are resent at once the first time, then at most every 100 ms,
  // not in a tight loop.
  assert.ok(sends >= 3 && sends <= 6, `${sends} sends`);
});
