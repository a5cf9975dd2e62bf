/**
 * The gateway's two ingest paths against real servers: the RabbitMQ `listings` queue (1,000
 * messages with redeliveries and 10 invalid ones, the gateway killed once in the middle, RabbitMQ
 * restarted) and the FTP file polled from pure-ftpd.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import type { LocalCluster } from '../launcher/local-cluster.js';
import type { ServiceProcess, ServiceRecord } from '../launcher/service-process.js';
import type { TypedDocumentString } from '../schema/generated/graphql.js';
import { graphql } from '../schema/generated/index.js';
import { eventually } from '../test-support/eventually.js';
import { putFtpFile, startTestFtp, type TestFtp } from '../test-support/ftp.js';
import {
  gatewayCluster,
  gatewayProcess,
  gatewayUrlOf,
  graphqlData,
  startGateway,
} from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';
import { startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';
import { DEAD_LETTER_QUEUE, LISTINGS_QUEUE, REASON_HEADER } from './queue/listings-consumer.js';

const TOKEN = 'ingest-test-token-0123456789';
const SECRET = 'ingest-test-secret-0123456789';
const PORT = 14_800;
const GATEWAY = gatewayUrlOf(PORT);

let pg: TestPostgres;
let rabbit: TestRabbitmq;
let ftp: TestFtp;
let c: LocalCluster;
let gateway: ServiceProcess;
const gatewayLog: ServiceRecord[] = [];
let dataDir: string;

const listing = (i: number, price = 100 + i) => ({
  title: `Item ${i}`,
  url: `https://shop.example/items/${i}`,
  price,
  currency: 'MDL',
  priceEur: Math.round((price / 19.5) * 100) / 100,
  scrapedAt: '2026-11-24T10:00:00Z',
});

const gql = <T, V>(query: TypedDocumentString<T, V>, variables?: V): Promise<T> =>
  graphqlData(GATEWAY, query, variables);

/** Every event of the log (paged). */
async function allEvents(): Promise<
  Array<{ position: number; type: string; stream: string; data: { url?: string } }>
> {
  const out: Array<{ position: number; type: string; stream: string; data: { url?: string } }> = [];
  for (;;) {
    const { events } = await gql(
      graphql(
        `query IngestTestEvents($a: Int) { events(afterPosition: $a, first: 500) { position type stream data } }`,
      ),
      { a: out.at(-1)?.position ?? 0 },
    );
    out.push(...(events as typeof out));
    if (events.length < 500) return out;
  }
}

before(async () => {
  [pg, rabbit, ftp] = await Promise.all([startTestPostgres(), startTestRabbitmq(), startTestFtp()]);
  dataDir = mkdtempSync(join(tmpdir(), 'ensemble-ingest-'));
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  gateway = gatewayProcess(stack, {
    env: {
      RABBITMQ_URL: rabbit.url,
      FTP_URL: ftp.url,
      FTP_POLL_INTERVAL_S: '0.3',
      DATA_DIR: join(dataDir, 'gateway'),
    },
    onRecord: (r) => {
      gatewayLog.push(r);
      if (r.level >= 50) process.stderr.write(`[gateway] ${JSON.stringify(r)}\n`);
    },
  });
  await startGateway(gateway);
  c = gatewayCluster(stack, {
    dataRoot: join(dataDir, 'nodes'),
    databaseUrl: await pg.createDatabase('ingest'),
  });
});

after(async () => {
  await gateway?.stop();
  await c?.stopAll();
  await Promise.all([pg?.stop(), rabbit?.stop(), ftp?.stop()]);
});

describe('the listings queue', { timeout: 300_000 }, () => {
  test('messages published before any leader wait unacked, then are stored once a leader is announced', async () => {
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(LISTINGS_QUEUE, { durable: true });
    for (let i = 0; i < 5; i++) {
      channel.sendToQueue(LISTINGS_QUEUE, Buffer.from(JSON.stringify(listing(i))), {
        persistent: true,
        messageId: `early-${i}`,
      });
    }
    await channel.waitForConfirms();
    await gateway.waitFor(
      (r) => r.msg === 'cannot store a listing yet; will retry',
      20_000,
      'a message waiting for a leader',
    );
    c.startAll();
    await c.waitForReady();
    const stored = await eventually('5 listings', async () => {
      const events = await allEvents();
      const added = events.filter((e) => e.type === 'ListingAdded');
      return added.length === 5 ? added : null;
    });
    assert.equal(stored.length, 5);
    await connection.close();
  });

  test('1,000 messages, 50 of them delivered twice and 10 invalid, the gateway killed mid-way: 1,000 listings once each, 10 dead letters', async () => {
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createConfirmChannel();
    const invalid: Array<[string, Buffer]> = [
      ['not JSON', Buffer.from('{"title": "broken')],
      ['empty', Buffer.from('')],
      ['array', Buffer.from(JSON.stringify([listing(1)]))],
      ['no price', Buffer.from(JSON.stringify({ ...listing(2), price: undefined }))],
      ['negative', Buffer.from(JSON.stringify({ ...listing(3), priceEur: -5 }))],
      ['relative url', Buffer.from(JSON.stringify({ ...listing(4), url: '/x' }))],
      ['bad currency', Buffer.from(JSON.stringify({ ...listing(5), currency: 'lei' }))],
      ['bad date', Buffer.from(JSON.stringify({ ...listing(6), scrapedAt: 'yesterday' }))],
      ['string price', Buffer.from(JSON.stringify({ ...listing(7), price: '12 500 lei' }))],
      ['empty title', Buffer.from(JSON.stringify({ ...listing(8), title: '   ' }))],
    ];
    let published = 0;
    for (let i = 100; i < 1_100; i++) {
      const content = Buffer.from(JSON.stringify(listing(i)));
      channel.sendToQueue(LISTINGS_QUEUE, content, {
        persistent: true,
        messageId: `m-${i}`,
        contentType: 'application/json',
      });
      // A publisher that retried after a lost confirm: the same messageId twice.
      if (i % 20 === 0)
        channel.sendToQueue(LISTINGS_QUEUE, content, { persistent: true, messageId: `m-${i}` });
      if (i % 100 === 0) {
        const [name, body] = invalid[(i - 100) / 100] as [string, Buffer];
        channel.sendToQueue(LISTINGS_QUEUE, body, { persistent: true, messageId: `bad-${name}` });
      }
      if (++published === 300) {
        await channel.waitForConfirms();
        // Kill the gateway while it has messages in flight: they are redelivered to the next one.
        await gateway.stop('SIGKILL');
        await startGateway(gateway);
      }
    }
    await channel.waitForConfirms();

    const dead: amqp.GetMessage[] = [];
    await eventually('10 dead letters', async () => {
      for (;;) {
        const m = await channel.get(DEAD_LETTER_QUEUE, { noAck: true });
        if (!m) break;
        dead.push(m);
      }
      return new Set(dead.map((m) => m.properties.messageId)).size >= 10 ? dead : null;
    });
    // Dead letters are at least once: a gateway killed between a dead letter's confirm and the
    // original's ack moves it again when RabbitMQ redelivers it, under the same messageId.
    assert.equal(new Set(dead.map((m) => m.properties.messageId)).size, 10);
    for (const m of dead) {
      assert.match(String(m.properties.messageId), /^bad-/);
      assert.match(String(m.properties.headers?.[REASON_HEADER]), /^not (JSON|a listing): /);
    }
    const added = await eventually('1,005 listings', async () => {
      const events = (await allEvents()).filter(
        (e) => e.type === 'ListingAdded' || e.type === 'ListingChanged',
      );
      return events.length >= 1_005 ? events : null;
    });
    const perUrl = new Map<string, number>();
    for (const e of added) perUrl.set(e.stream, (perUrl.get(e.stream) ?? 0) + 1);
    assert.equal(perUrl.size, 1_005, 'one stream per listing');
    assert.deepEqual(
      [...perUrl.values()].filter((n) => n !== 1),
      [],
      'no listing changed twice: 0 duplicates',
    );
    const queue = await channel.checkQueue(LISTINGS_QUEUE);
    assert.equal(queue.messageCount, 0);
    await connection.close();
  });

  test('RabbitMQ restarted: the consumer reconnects and carries on', async () => {
    const reconnected = gateway.waitFor((r) => r.msg === 'consuming the listings queue', 60_000, 'reconnect');
    await rabbit.restart();
    await reconnected;
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(LISTINGS_QUEUE, Buffer.from(JSON.stringify(listing(5_000))), {
      persistent: true,
      messageId: 'after-restart',
    });
    await channel.waitForConfirms();
    await eventually('the listing sent after the restart', async () => {
      const events = await allEvents();
      return events.some((e) => e.data.url === 'https://shop.example/items/5000') ? true : null;
    });
    await connection.close();
  });
});

describe('the FTP file', { timeout: 120_000 }, () => {
  const imports = () => gatewayLog.filter((r) => r.msg === 'listings file imported from FTP');

  const put = (content: string) => putFtpFile(ftp, '/listings/latest.json', content);

  async function unchangedPolls(): Promise<number> {
    const text = await (await fetch(`${GATEWAY}/metrics`)).text();
    return Number(/ensemble_gateway_ftp_polls_total\{outcome="unchanged"\} (\d+)/.exec(text)?.[1] ?? 0);
  }

  test('no file yet: said once, nothing imported', async () => {
    await eventually('a missing-file poll', async () =>
      gatewayLog.some((r) => r.msg === 'no listings file on FTP yet') ? true : null,
    );
    assert.equal(imports().length, 0);
  });

  test('a file put on FTP is imported within a poll; a changed one again; an unchanged one not twice', async () => {
    const first = JSON.stringify([listing(7_000), listing(7_001)]);
    const imported = gateway.waitFor(
      (r) => r.msg === 'listings file imported from FTP',
      10_000,
      'first import',
    );
    await put(first);
    assert.equal((await imported).importedListings, 2);
    const changed = JSON.stringify([listing(7_000, 999), listing(7_001), listing(7_002)]);
    const importedAgain = gateway.waitFor(
      (r) => r.msg === 'listings file imported from FTP',
      10_000,
      'second import',
    );
    await put(changed);
    assert.equal((await importedAgain).importedListings, 3);
    const polls = await unchangedPolls();
    await eventually('three more unchanged polls', async () =>
      (await unchangedPolls()) >= polls + 3 ? true : null,
    );
    assert.equal(imports().length, 2);
    const { files } = await gql(graphql(`query IngestTestFiles { files { name importedListings } }`));
    assert.equal(files.filter((f) => f.name === 'latest.json').length, 2);
  });

  test('an invalid file is refused once and nothing of it is stored; the gateway keeps polling', async () => {
    const before = await allEvents();
    const refused = gateway.waitFor(
      (r) => r.msg.startsWith('the leader refused the listings file'),
      10_000,
      'refusal',
    );
    await put('[{"title": "no url"}]');
    await refused;
    const polls = await unchangedPolls();
    await eventually('more polls', async () => ((await unchangedPolls()) >= polls + 2 ? true : null));
    assert.equal(
      gatewayLog.filter((r) => r.msg.startsWith('the leader refused the listings file')).length,
      1,
    );
    assert.equal((await allEvents()).length, before.length);
  });
});
