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

function router(
  registry: LeaderRegistry,
  transport: NodeTransport,
  leaderWaitMs: number,
  options: { unhealthy?: string; nodeTimeoutMs?: number } = {},
) {
  return new LeaderRouter({
    registry,
    directory: {
      markUnhealthy: () => {},
      isHealthy: (url: string) => url !== options.unhealthy,
    } as unknown as NodeDirectory,
    leaderWaitMs,
    nodeTimeoutMs: options.nodeTimeoutMs ?? 1_000,
    metrics: { retries: { inc: () => {} }, campaignWrites: { inc: () => {} } } as unknown as GatewayMetrics,
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

const CAMPAIGNER = 'http://campaigner';
const OTHER = 'http://other';
const ok = { status: 200, contentType: 'application/json', body: Buffer.from('{"data":{"ok":true}}') };
const notLeader = {
  status: 200,
  contentType: 'application/json',
  body: Buffer.from(
    JSON.stringify({
      data: null,
      errors: [{ message: 'not the leader', extensions: { code: 'NOT_LEADER' } }],
    }),
  ),
};

/** A registry that knows `leader` (id, url, term) and the campaigns given (id, url, term each). */
function registryWith(leader: [string, string, number], ...campaigns: Array<[string, string, number]>) {
  const registry = new LeaderRegistry();
  registry.accept({ id: leader[0], url: leader[1], term: leader[2] });
  for (const [id, url, term] of campaigns) registry.campaign({ id, url, term }, true);
  return registry;
}

/** `ok` a few ms later, as a node answers, unless the router gives up on the request first. */
function answerUnlessAborted(url: string, signal: AbortSignal | undefined): Promise<typeof ok> {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(new HttpUnreachableError(url, 'aborted'));
    if (signal?.aborted) return aborted();
    const timer = setTimeout(() => resolve(ok), 20);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      aborted();
    });
  });
}

test('a write whose leader died goes to a node the moment it campaigns, and its win does not cut the write off', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: DEAD, term: 4 });
  const sent: string[] = [];
  const transport: NodeTransport = {
    async send(url, _body, headers, options) {
      sent.push(`${url} ${headers[IDEMPOTENCY_KEY_HEADER]}`);
      if (url === DEAD) {
        // n2's pre-vote starts while the write waits to look at the dead leader again.
        setTimeout(() => registry.campaign({ id: 'n2', url: CAMPAIGNER, term: 4 }, true), 10);
        throw new HttpUnreachableError(url, 'ECONNREFUSED');
      }
      // The campaigner holds the write through its election, wins (the gateway hears of it
      // while the write is still held), and answers.
      registry.campaign({ id: 'n2', url: CAMPAIGNER, term: 5 }, true);
      registry.accept({ id: 'n2', url: CAMPAIGNER, term: 5 });
      return answerUnlessAborted(url, options.signal);
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', { [IDEMPOTENCY_KEY_HEADER]: 'k-3' });
  assert.deepEqual(sent, [`${DEAD} k-3`, `${CAMPAIGNER} k-3`]);
  assert.equal(res.attempts, 2);
  assert.deepEqual({ id: res.leader.id, term: res.leader.term }, { id: 'n2', term: 5 });
});

test('a campaign that lost the write to another node sends it to the winner, with its key', async () => {
  const registry = registryWith(['n1', DEAD, 4], ['n2', CAMPAIGNER, 5]);
  const sent: string[] = [];
  const transport: NodeTransport = {
    async send(url, _body, headers) {
      sent.push(`${url} ${headers[IDEMPOTENCY_KEY_HEADER]}`);
      if (url === DEAD) throw new HttpUnreachableError(url, 'ECONNREFUSED');
      if (url === CAMPAIGNER) {
        registry.campaign({ id: 'n2', url: CAMPAIGNER, term: 5 }, false);
        setTimeout(() => registry.accept({ id: 'n3', url: OTHER, term: 5 }), 10);
        return notLeader;
      }
      return ok;
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', { [IDEMPOTENCY_KEY_HEADER]: 'k-4' });
  assert.equal(res.leader.url, OTHER);
  assert.deepEqual(sent.slice(0, 2), [`${DEAD} k-4`, `${CAMPAIGNER} k-4`]);
  assert.equal(sent.at(-1), `${OTHER} k-4`);
  assert.equal(sent.filter((s) => s.startsWith(CAMPAIGNER)).length, 1, 'a lost campaign is tried once');
});

test('a write held by a campaign is sent on at once when another node wins', async () => {
  const registry = registryWith(['n1', DEAD, 4], ['n2', CAMPAIGNER, 4]);
  const sent: string[] = [];
  const transport: NodeTransport = {
    send: (url, _body, _headers, options) => {
      sent.push(url);
      if (url === DEAD) return Promise.reject(new HttpUnreachableError(url, 'ECONNREFUSED'));
      if (url === OTHER) return Promise.resolve(ok);
      // The campaigner holds it (as a node does until its campaign ends) — past the node timeout
      // were it not for the winner's announcement.
      setTimeout(() => registry.accept({ id: 'n3', url: OTHER, term: 5 }), 10);
      return new Promise((_resolve, reject) =>
        options.signal?.addEventListener('abort', () => reject(new HttpUnreachableError(url, 'aborted'))),
      );
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', {});
  assert.equal(res.leader.url, OTHER);
  assert.deepEqual(sent, [DEAD, CAMPAIGNER, OTHER]);
});

/**
 * Where a write goes when its leader, n1 (NEXT, term 4), fails it once with a reset connection
 * (a blip) and `duringBlip` runs meanwhile; a campaign's node answers NOT_LEADER, n1 then `ok`.
 */
async function afterABlip(registry: LeaderRegistry, duringBlip: () => void, leaderWaitMs: number) {
  const sent: string[] = [];
  const transport: NodeTransport = {
    async send(url) {
      sent.push(url);
      if (url === NEXT && sent.length === 1) {
        duringBlip();
        throw new HttpUnreachableError(url, 'ECONNRESET');
      }
      return url === CAMPAIGNER ? notLeader : ok;
    },
  };
  const res = await router(registry, transport, leaderWaitMs).send('{}', {});
  return { leader: res.leader.url, sent };
}

test('campaigns take no write from a leader that answers, nor from its own node, nor of an earlier term', async () => {
  const registry = registryWith(['n1', NEXT, 4], ['n2', CAMPAIGNER, 3]); // n2's refused: term 4 is led
  // The leader blips; meanwhile its own node and a stale campaign are all there is.
  const where = await afterABlip(
    registry,
    () => registry.campaign({ id: 'n1', url: NEXT, term: 4 }, true),
    10_000,
  );
  assert.deepEqual(where, { leader: NEXT, sent: [NEXT, NEXT] });
});

test('a campaign that cannot win (its leader is alive) sends the write back to that leader, not to NO_LEADER', async () => {
  const registry = registryWith(['n1', NEXT, 4]);
  // A blip, while a cut-off n2 asks for pre-votes it will not get. A leader wait far longer than
  // the test's timeout: NOT_LEADER must not mean "wait for a newer one".
  const where = await afterABlip(
    registry,
    () => registry.campaign({ id: 'n2', url: CAMPAIGNER, term: 4 }, true),
    60_000,
  );
  assert.deepEqual(where, { leader: NEXT, sent: [NEXT, CAMPAIGNER, NEXT] });
});

test('a campaign that did not take the write, its leader having refused it, sends it on to a newer leader only', async () => {
  const registry = new LeaderRegistry();
  registry.accept({ id: 'n1', url: NEXT, term: 4 });
  const sent: string[] = [];
  const transport: NodeTransport = {
    async send(url) {
      sent.push(url);
      if (url === NEXT) {
        // Deposed (NOT_LEADER) while n2 campaigns.
        registry.campaign({ id: 'n2', url: CAMPAIGNER, term: 5 }, true);
        return notLeader;
      }
      if (url === CAMPAIGNER) {
        setTimeout(() => registry.accept({ id: 'n3', url: OTHER, term: 5 }), 150);
        return notLeader;
      }
      return ok;
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', {});
  assert.equal(res.leader.url, OTHER);
  assert.deepEqual(sent, [NEXT, CAMPAIGNER, OTHER], 'not back to the leader that refused it');
});

test('a campaign that answers SERVICE_UNAVAILABLE (elected, claiming) gets the write again, not the dead leader', async () => {
  const registry = registryWith(['n1', DEAD, 4], ['n2', CAMPAIGNER, 5]);
  const sent: string[] = [];
  const transport: NodeTransport = {
    async send(url) {
      sent.push(url);
      if (url === DEAD) throw new HttpUnreachableError(url, 'ECONNREFUSED');
      return sent.filter((u) => u === CAMPAIGNER).length === 1 ? unavailable : ok;
    },
  };
  const res = await router(registry, transport, 10_000).send('{}', {});
  assert.equal(res.leader.url, CAMPAIGNER);
  assert.deepEqual(sent, [DEAD, CAMPAIGNER, CAMPAIGNER]);
});

test('a campaign is given at most 3 s to answer (a leader, the node timeout), and none whose node fails its checks', async () => {
  const registry = registryWith(['n1', DEAD, 4], ['n2', CAMPAIGNER, 5], ['n3', OTHER, 5]);
  const timeouts: Array<[string, number]> = [];
  const transport: NodeTransport = {
    async send(url, _body, _headers, options) {
      timeouts.push([url, options.timeoutMs]);
      if (url === DEAD) throw new HttpUnreachableError(url, 'ECONNREFUSED');
      return ok;
    },
  };
  const res = await router(registry, transport, 10_000, {
    unhealthy: CAMPAIGNER,
    nodeTimeoutMs: 15_000,
  }).send('{}', {});
  assert.equal(res.leader.url, OTHER);
  assert.deepEqual(timeouts, [
    [DEAD, 15_000],
    [OTHER, 3_000],
  ]);
});
