/**
 * Two gateways in front of one cluster, as the Kubernetes Deployment runs them: the nodes
 * announce to one of them only (a Service hands each announcement to one replica), and the
 * other learns the leader from the nodes' /healthz. Both answer /livez at once and /readyz once
 * they know a leader; writes through either reach the leader, before and after a failover.
 * Both run the ingest paths too, as every replica does: they consume the same `listings` queue
 * (quorum, as on Kubernetes) and poll the same FTP file, and each message and each file takes
 * effect once — the leader knows a message by its idempotency key `amqp:<messageId>` and a file
 * by `ftp:<sha256>` (and stores a file once per sha256), whichever gateway brings it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import amqp from 'amqplib';
import { LIVEZ_PATH, READYZ_PATH } from '../common/probes.js';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import { graphql } from '../schema/generated/index.js';
import type { ListingMessage } from '../schema/listing-message.js';
import { LISTINGS_QUEUE, listingsQueueDeclaration } from '../schema/listings-queue.js';
import { eventually } from '../test-support/eventually.js';
import { putFtpFile, startTestFtp, type TestFtp } from '../test-support/ftp.js';
import {
  gatewayCluster,
  gatewayLeader,
  gatewayProcess,
  gatewayUrlOf,
  graphqlData,
  startGateway,
} from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';

const TOKEN = 'two-gateways-token-0123456789';
const SECRET = 'two-gateways-secret-0123456789';
/** Gateways on PORT and PORT + 50, nodes on PORT + 1..3 (UDP PORT + 11..13). */
const PORT = 15_800;
/** The one the nodes announce to, and the one that only polls. */
const ANNOUNCED = gatewayUrlOf(PORT);
const POLLING = gatewayUrlOf(PORT + 50);

// The gateway suite's mutation (a document codegen already knows).
const CREATE_TASK = graphql(
  `mutation GatewayTestCreateTask($t: String!) { createTask(input: { title: $t }) { id title version } }`,
);

let pg: TestPostgres;
let rabbit: TestRabbitmq;
let ftp: TestFtp;
let c: LocalCluster;
const gateways: ServiceProcess[] = [];

const statusOf = async (url: string) => (await fetch(url)).status;

before(async () => {
  [pg, rabbit, ftp] = await Promise.all([startTestPostgres(), startTestRabbitmq(), startTestFtp()]);
  const dataRoot = mkdtempSync(join(tmpdir(), 'ensemble-two-gateways-'));
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  for (const [i, url] of [ANNOUNCED, POLLING].entries()) {
    const gateway = gatewayProcess(stack, {
      env: {
        GATEWAY_URL: url,
        LOG_LEVEL: 'info',
        RABBITMQ_URL: rabbit.url,
        QUEUE_TYPE: 'quorum',
        FTP_URL: ftp.url,
        FTP_POLL_INTERVAL_S: '0.3',
        // Each replica its own disk (an emptyDir on Kubernetes): nothing of the poller is shared.
        DATA_DIR: join(dataRoot, `gateway-${i}`),
      },
      onText: () => {},
    });
    gateways.push(gateway);
    const consuming = gateway.waitFor(
      (r) => r.msg === 'consuming the listings queue',
      60_000,
      'its queue consumer',
    );
    await startGateway(gateway);
    await consuming;
  }
  c = gatewayCluster(stack, {
    dataRoot: join(dataRoot, 'nodes'),
    databaseUrl: await pg.createDatabase('two_gateways'),
  });
});

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  await c?.stopAll();
  await Promise.all([pg?.stop(), rabbit?.stop(), ftp?.stop()]);
});

const listing = (n: number, price: number): ListingMessage => ({
  title: `Two gateways ${n}`,
  url: `https://shop.example/two-gateways/${n}`,
  price,
  currency: 'MDL',
  priceEur: Math.round((price / 19.5) * 100) / 100,
  scrapedAt: '2026-12-01T10:00:00Z',
});

/** A query through a gateway (its text not a codegen document: this file's own reads). */
async function read<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${ANNOUNCED}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  if (body.errors !== undefined) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

interface LoggedEvent {
  readonly position: number;
  readonly type: string;
  readonly data: { readonly url?: string };
}

/** Every event of the log, read through a gateway (paged). */
async function allEvents(): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (;;) {
    const { events } = await read<{ events: LoggedEvent[] }>(
      'query ($a: Int) { events(afterPosition: $a, first: 500) { position type data } }',
      { a: out.at(-1)?.position ?? 0 },
    );
    out.push(...events);
    if (events.length < 500) return out;
  }
}

/** A gateway's count of queue messages it stored and acked (first deliveries and redeliveries). */
async function storedMessages(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/ensemble_gateway_queue_messages_total\{outcome="stored\w*"\} (\d+)/g))
    sum += Number(m[1]);
  return sum;
}

test('both gateways learn the leader, serve writes, and follow a failover', {
  timeout: 180_000,
}, async () => {
  for (const url of [ANNOUNCED, POLLING]) {
    assert.equal(await statusOf(`${url}${LIVEZ_PATH}`), 200, `${url}: alive before any node`);
    assert.equal(await statusOf(`${url}${READYZ_PATH}`), 503, `${url}: not ready without a leader`);
  }
  c.startAll();
  await c.waitForReady();
  const { leader } = await c.waitForAgreement(30_000);
  const [a, b] = await Promise.all([gatewayLeader(ANNOUNCED), gatewayLeader(POLLING)]);
  assert.equal(a.id, leader);
  assert.deepEqual(b, a, 'the gateway no node announces to learns the same leader');
  for (const url of [ANNOUNCED, POLLING]) {
    assert.equal(await statusOf(`${url}${READYZ_PATH}`), 200, `${url}: ready once it knows the leader`);
  }
  assert.equal(await statusOf(`${c.url(leader)}${READYZ_PATH}`), 200, 'the leader node is ready');

  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const url of [ANNOUNCED, POLLING]) {
    const { createTask } = await graphqlData(url, CREATE_TASK, { t: `before via ${url}` }, auth);
    assert.equal(createTask.title, `before via ${url}`);
  }

  await c.kill(leader);
  const [a2, b2] = await Promise.all([gatewayLeader(ANNOUNCED, a.term), gatewayLeader(POLLING, a.term)]);
  assert.notEqual(a2.id, leader);
  assert.equal(b2.id, a2.id, 'both follow the new leader');
  for (const url of [ANNOUNCED, POLLING]) {
    const { createTask } = await graphqlData(url, CREATE_TASK, { t: `after via ${url}` }, auth);
    assert.equal(createTask.title, `after via ${url}`);
  }
});

test('the listings queue consumed by both gateways: each message takes effect once', {
  timeout: 180_000,
}, async () => {
  // Per listing: its first price, a second price, and the first one again under its messageId
  // (a publisher's retry). Whatever gateway takes which, and in whatever order, a listing gets
  // two events: the retry is known by its key. Without the key, a retry after the second price
  // would change the listing back: a third event.
  const listings = 100;
  const connection = await amqp.connect(rabbit.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(LISTINGS_QUEUE, listingsQueueDeclaration('quorum'));
  const send = (n: number, price: number, messageId: string) =>
    channel.sendToQueue(LISTINGS_QUEUE, Buffer.from(JSON.stringify(listing(n, price))), {
      persistent: true,
      messageId,
      contentType: 'application/json',
    });
  for (let n = 0; n < listings; n++) {
    // Dispatch alternates between the two consumers: the retry lands on the other gateway for
    // every other listing, on the same one for the rest.
    send(n, 100 + n, `first-${n}`);
    if (n % 2 === 0) send(n, 100 + n, `first-${n}`);
    send(n, 200 + n, `second-${n}`);
    if (n % 2 === 1) send(n, 100 + n, `first-${n}`);
  }
  await channel.waitForConfirms();
  await connection.close();
  const published = listings * 3;

  const counts = await eventually(`${published} messages stored`, async () => {
    const each = await Promise.all([ANNOUNCED, POLLING].map(storedMessages));
    return each.reduce((a, b) => a + b, 0) >= published ? each : null;
  });
  assert.ok(
    counts.every((n) => n > 0),
    `both gateways consumed: ${counts}`,
  );
  const perListing = new Map<string, string[]>();
  for (const { type, data } of await allEvents())
    if (data.url?.includes('/two-gateways/'))
      perListing.set(data.url, [...(perListing.get(data.url) ?? []), type]);
  assert.equal(perListing.size, listings, 'every listing stored');
  for (const [url, types] of perListing)
    assert.deepEqual(types, ['ListingAdded', 'ListingChanged'], `${url}: each message once`);
});

test('the FTP file polled by both gateways: its listings take effect once', {
  timeout: 120_000,
}, async () => {
  const file = JSON.stringify([listing(1_000, 500), listing(1_001, 501), listing(1_002, 502)]);
  // Both gateways fetch it and forward it to the leader; the second is answered as a repeat.
  const imported = gateways.map((gateway) =>
    gateway.waitFor(
      (r: ServiceRecord) => r.msg === 'listings file imported from FTP',
      30_000,
      'the FTP file imported',
    ),
  );
  await putFtpFile(ftp, '/listings/latest.json', file);
  const answers = await Promise.all(imported);
  assert.deepEqual(
    answers.map((r) => r.importedListings),
    [3, 3],
  );
  assert.equal(answers[0]?.sha256, answers[1]?.sha256, 'the same file');

  const { files } = await read<{ files: unknown[] }>('{ files { name sha256 importedListings } }');
  assert.deepEqual(files, [{ name: 'latest.json', sha256: answers[0]?.sha256, importedListings: 3 }]);
  const events = await allEvents();
  assert.equal(events.filter((e) => e.type === 'FileStored').length, 1, 'the file stored once');
  for (const n of [1_000, 1_001, 1_002])
    assert.deepEqual(
      events.filter((e) => e.data.url === listing(n, 0).url).map((e) => e.type),
      ['ListingAdded'],
      `listing ${n} once`,
    );
});
