import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ChannelModel, type ConsumeMessage, connect } from 'amqplib';
import { createLogger } from '../common/logger.js';
import { type RunningFtp, startPureFtpd } from '../launcher/pure-ftpd.js';
import { listingFile, listingMessage } from '../schema/listing-message.js';
import { startTestFtp, type TestFtp } from '../test-support/ftp.js';
import { freePort } from '../test-support/postgres.js';
import { receiveMessages, startTestRabbitmq, type TestRabbitmq } from '../test-support/rabbitmq.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../test-support/tls-cert.js';
import { type DemoShop, startDemoShop } from './demo-shop/demo-shop.js';
import { demoShopProfile } from './profiles/demo-shop.js';
import { scrapeRound } from './scrape-round.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'scrape-cli.js');

/** Takes every message now in the queue (acked), expecting `count`. */
async function take(connection: ChannelModel, queue: string, count: number): Promise<ConsumeMessage[]> {
  const received = await receiveMessages(connection, queue, count);
  // Nothing more than expected.
  const check = await connection.createChannel();
  assert.equal((await check.checkQueue(queue)).messageCount, 0);
  await check.close();
  return received;
}

/** Runs the CLI; resolves with its exit code and output once it exits. */
async function runCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  // 'close', not 'exit': the exit may be seen before the last of its output.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Waits for stdout lines of a running child, in order. */
function stdoutLines(child: ChildProcess): (pattern: RegExp) => Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return async (pattern) => {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      if (pattern.test(next.value)) return next.value;
    }
    throw new Error(`the scraper ended without printing ${pattern}`);
  };
}

describe('a scrape round: the demo shop to RabbitMQ and FTP', () => {
  let shop: DemoShop;
  let rabbit: TestRabbitmq;
  let ftp: TestFtp;
  let connection: ChannelModel;
  const dir = mkdtempSync(join(tmpdir(), 'scraper-round-'));
  const logger = createLogger('scraper-test', 'silent');
  const config = (over: { outPath: string; queue?: string }) => ({
    startUrl: shop.url,
    profile: demoShopProfile,
    maxPages: 10,
    range: {},
    perEur: { MDL: 19.5 },
    concurrency: 4,
    fetchPolicy: { timeoutMs: 5000, attempts: 3, baseDelayMs: 20 },
    dryRun: false,
    rabbitmqUrl: rabbit.url,
    queueType: 'classic' as const,
    ftpUrl: ftp.url,
    ...over,
  });
  const ftpFile = () => readFileSync(join(ftp.rootDir, 'listings', 'latest.json'));

  before(async () => {
    [shop, rabbit, ftp] = await Promise.all([
      startDemoShop({ port: 0 }),
      startTestRabbitmq(),
      startTestFtp(),
    ]);
    connection = await connect(rabbit.url);
  });
  after(async () => {
    await connection.close();
    await Promise.all([shop.stop(), rabbit.stop(), ftp.stop()]);
  });

  test('every listing on the queue, the same listings in the file and on FTP; a reprice shows on the next round', async () => {
    const outPath = join(dir, 'first', 'latest.json');
    const report = await scrapeRound(config({ outPath }), { logger });
    assert.equal(report.listings.length, 39);
    assert.equal(report.summary.count, 39);
    assert.equal(report.uploaded, true);

    const local = readFileSync(outPath);
    assert.deepEqual(JSON.parse(local.toString('utf8')), report.listings);
    assert.ok(listingFile.safeParse(JSON.parse(local.toString('utf8'))).success);
    assert.deepEqual(ftpFile(), local, 'the file on FTP is the local file, byte for byte');
    assert.deepEqual(
      readdirSync(join(ftp.rootDir, 'listings')),
      ['latest.json'],
      'no temporary file is left',
    );

    const messages = await take(connection, 'listings', 39);
    assert.equal(new Set(messages.map((m) => m.properties.messageId)).size, 39, 'unique messageIds');
    assert.deepEqual(new Set(messages.map((m) => m.properties.messageId)), new Set(report.messageIds));
    for (const m of messages) {
      assert.equal(m.properties.deliveryMode, 2, 'persistent');
      assert.equal(m.properties.contentType, 'application/json');
      assert.ok(listingMessage.safeParse(JSON.parse(m.content.toString('utf8'))).success);
    }
    assert.deepEqual(
      messages.map((m) => JSON.parse(m.content.toString('utf8'))),
      report.listings,
      'the messages are the listings, in order',
    );

    const changes = shop.reprice('round-two');
    const second = await scrapeRound(config({ outPath }), { logger });
    const repriced = await take(connection, 'listings', 39);
    const onQueue = new Map(
      repriced.map((m) => JSON.parse(m.content.toString('utf8'))).map((l) => [l.url, l.price]),
    );
    const onFtp = new Map(
      (JSON.parse(ftpFile().toString('utf8')) as { url: string; price: number }[]).map((l) => [
        l.url,
        l.price,
      ]),
    );
    for (const change of changes) {
      assert.equal(onQueue.get(shop.itemUrl(change.slug)), change.after, change.slug);
      assert.equal(onFtp.get(shop.itemUrl(change.slug)), change.after, change.slug);
    }
    assert.ok(
      second.messageIds.every((id) => !report.messageIds.includes(id)),
      'a new publish, new ids',
    );
    assert.deepEqual(ftpFile(), readFileSync(outPath));
  });

  test('npm run scrape -- --once --pages 2 --max-price 300: 2 pages, the filter, the summary, exit 0', async () => {
    const outPath = join(dir, 'cli', 'latest.json');
    const { code, stdout, stderr } = await runCli(
      ['--once', '--url', shop.url, '--pages', '2', '--max-price', '300', '--out', outPath],
      { RABBITMQ_URL: rabbit.url, FTP_URL: ftp.url },
    );
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'not a terminal: no progress bar, nothing on stderr');
    assert.match(stdout, new RegExp(`scraped 2 listing pages and 20 detail pages of ${shop.url}`));
    const listings = JSON.parse(readFileSync(outPath, 'utf8')) as { priceEur: number }[];
    assert.ok(listings.length > 0 && listings.every((l) => l.priceEur <= 300));
    const dropped = 19 - listings.length;
    assert.match(
      stdout,
      new RegExp(
        `${listings.length} listings, ${dropped + 1} dropped \\(no price: 1, above --max-price: ${dropped}\\)`,
      ),
    );
    assert.deepEqual(ftpFile(), readFileSync(outPath));
    await take(connection, 'listings', listings.length);
  });

  test('a bad flag is one line and exit 2, before anything is done', async () => {
    const { code, stdout, stderr } = await runCli(['--pages', 'many'], {});
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, 'scrape: --pages: must be a whole number of pages from 1 to 1000 (got "many")\n');
  });

  test('a publish that cannot succeed ends the process with exit 1; the file is still uploaded', async () => {
    const outPath = join(dir, 'unpublished', 'latest.json');
    const deadBroker = new URL(rabbit.url);
    deadBroker.port = '1';
    const { code, stderr } = await runCli(['--once', '--url', shop.url, '--pages', '1', '--out', outPath], {
      RABBITMQ_URL: deadBroker.href,
      FTP_URL: ftp.url,
    });
    assert.equal(code, 1);
    assert.match(stderr, /scrape: 9 of 9 listings not confirmed by RabbitMQ after 6 tries/);
    assert.deepEqual(ftpFile(), readFileSync(outPath));
  });

  test('without --once it scrapes every --interval seconds until SIGTERM, then exits 0', async () => {
    const outPath = join(dir, 'interval', 'latest.json');
    const child = spawn(
      process.execPath,
      [CLI, '--url', shop.url, '--pages', '1', '--interval', '1', '--out', outPath],
      {
        env: { ...process.env, LOG_LEVEL: 'warn', RABBITMQ_URL: rabbit.url, FTP_URL: ftp.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = once(child, 'exit');
    const line = stdoutLines(child);
    await line(/^scraped 1 listing pages/);
    await line(/^scraped 1 listing pages/);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.deepEqual([code, signal], [0, null]);
    await take(connection, 'listings', 18);
  });
  test('on a terminal a progress bar of the pages is drawn, then cleared before the summary', async () => {
    // A real pseudo-terminal: script(1) runs the CLI with its stdin, stdout and stderr on a pty.
    const outPath = join(dir, 'tty', 'latest.json');
    const command = [process.execPath, CLI, '--once', '--dry-run', '--url', shop.url, '--pages', '1']
      .concat(['--concurrency', '1', '--out', outPath])
      .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
      .join(' ');
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let terminal = '';
    child.stdout.on('data', (chunk) => {
      terminal += chunk;
    });
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, terminal);
    const frames = [...terminal.matchAll(/scraping \S+ (\d+)\/(\d+) pages/g)].map((m) => ({
      done: Number(m[1]),
      total: Number(m[2]),
    }));
    assert.ok(frames.length > 0, `a progress bar on the terminal: ${JSON.stringify(terminal)}`);
    // One listing page and its ten detail pages.
    for (const { done, total } of frames) assert.ok(done <= total && total <= 11, `${done}/${total}`);
    // Cleared (erase line) before the summary is written over it.
    assert.ok(
      terminal.includes('\u001b[2Kscraped 1 listing pages and 10 detail pages of '),
      'the bar is erased before the summary',
    );
    assert.match(terminal, /9 listings, 1 dropped \(no price: 1\)/);
  });

  describe('FTPS: ftps:// against a pure-ftpd that accepts only TLS', () => {
    let cert: TestCertificate;
    let ftps: RunningFtp;
    const ftpsDir = mkdtempSync(join(tmpdir(), 'scraper-ftps-'));
    before(async () => {
      cert = makeSelfSignedCertificate();
      const passive = await freePort();
      ftps = await startPureFtpd({
        dataDir: ftpsDir,
        port: await freePort(),
        user: 'scraper',
        password: 'tls-password',
        passivePorts: [passive, Math.min(passive + 9, 65535)],
        tls: { certFile: cert.certFile, keyFile: cert.keyFile, required: true },
      });
    });
    after(async () => {
      await ftps?.stop();
    });
    const run = (outPath: string, env: Record<string, string>) =>
      runCli(['--once', '--url', shop.url, '--pages', '1', '--out', outPath], {
        RABBITMQ_URL: rabbit.url,
        ...env,
      });

    test('the file is uploaded over TLS, the server’s certificate checked against FTP_TLS_CA', async () => {
      assert.match(ftps.url, /^ftps:\/\//);
      const outPath = join(dir, 'ftps', 'latest.json');
      const { code, stderr } = await run(outPath, { FTP_URL: ftps.url, FTP_TLS_CA: cert.certFile });
      assert.equal(code, 0, stderr);
      assert.deepEqual(readFileSync(join(ftps.rootDir, 'listings', 'latest.json')), readFileSync(outPath));
      assert.deepEqual(readdirSync(join(ftps.rootDir, 'listings')), ['latest.json']);
      await take(connection, 'listings', 9);
    });

    test('an untrusted certificate is refused, and so is plain ftp:// by this server: exit 1, saying why', async () => {
      const untrusted = await run(join(dir, 'ftps-untrusted', 'latest.json'), { FTP_URL: ftps.url });
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /^scrape: self[- ]signed certificate/m);
      await take(connection, 'listings', 9);
      const plain = await run(join(dir, 'ftps-plain', 'latest.json'), {
        FTP_URL: ftps.url.replace(/^ftps:/, 'ftp:'),
      });
      assert.equal(plain.code, 1);
      assert.match(plain.stderr, /^scrape: 421.*cleartext sessions/m);
      await take(connection, 'listings', 9);
    });
  });
});
