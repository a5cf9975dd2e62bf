/**
 * The gateway's FTP poller over FTPS against a real pure-ftpd that accepts only TLS, with a
 * self-signed certificate: without FTP_TLS_CA the certificate is refused (one clear line, the
 * poller keeps polling, nothing stored); with FTP_TLS_CA naming that certificate, the file is
 * fetched over TLS and the leader of a real cluster stores it. Ports 15500–15599.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LocalCluster } from '../../launcher/local-cluster.js';
import { type RunningFtp, startPureFtpd } from '../../launcher/pure-ftpd.js';
import type { ServiceProcess, ServiceRecord } from '../../launcher/service-process.js';
import type { TypedDocumentString } from '../../schema/generated/graphql.js';
import { graphql } from '../../schema/generated/index.js';
import { putFtpFile } from '../../test-support/ftp.js';
import {
  gatewayCluster,
  gatewayProcess,
  gatewayUrlOf,
  graphqlData,
} from '../../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../../test-support/postgres.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../../test-support/tls-cert.js';

const TOKEN = 'ftps-test-token-0123456789';
const SECRET = 'ftps-test-secret-0123456789';
const PORT = 15_500;
const GATEWAY = gatewayUrlOf(PORT);
const STACK = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
const FTP_PORT = PORT + 20;
const UNTRUSTED =
  "cannot fetch the listings file: the FTP server's TLS certificate is not trusted (FTP_TLS_CA names the PEM file of a private CA); next tick tries again";

let cert: TestCertificate;
let pg: TestPostgres;
let ftps: RunningFtp;
let c: LocalCluster;
let gateway: ServiceProcess | undefined;
let dataDir: string;

const listing = (i: number) => ({
  title: `Item ${i}`,
  url: `https://shop.example/ftps/${i}`,
  price: 100 + i,
  currency: 'MDL',
  priceEur: Math.round(((100 + i) / 19.5) * 100) / 100,
  scrapedAt: '2026-11-24T10:00:00Z',
});

const gql = <T, V>(query: TypedDocumentString<T, V>, variables?: V): Promise<T> =>
  graphqlData(GATEWAY, query, variables);

const storedFiles = async () =>
  (await gql(graphql(`query FtpsTestFiles { files { name sha256 importedListings } }`))).files;

async function polls(outcome: string): Promise<number> {
  const text = await (await fetch(`${GATEWAY}/metrics`)).text();
  const m = new RegExp(`ensemble_gateway_ftp_polls_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? 0);
}

/** Poll until `check` holds: the metrics give no push signal to a test. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The file put over FTPS by the test itself, trusting the server's own certificate. */
const put = (content: string) => putFtpFile(ftps, '/listings/latest.json', content, { ca: cert.cert });

/** A gateway polling the FTPS server every 0.1 s, started with a leader known. */
async function startGateway(log: ServiceRecord[], env: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = gatewayProcess(STACK, {
    env: {
      FTP_URL: ftps.url,
      FTP_POLL_INTERVAL_S: '0.1',
      HEALTH_INTERVAL_MS: '100',
      DATA_DIR: join(dataDir, 'gateway'),
      ...env,
    },
    onRecord: (r) => {
      log.push(r);
      if (r.level >= 50) process.stderr.write(`[gateway] ${JSON.stringify(r)}\n`);
    },
  });
  const leader = service.waitFor(
    (r) => r.msg === 'leader changed' || r.msg === 'leader found by health check',
    30_000,
    'a leader',
  );
  service.start();
  gateway = service;
  await leader;
  return service;
}

before(async () => {
  cert = makeSelfSignedCertificate();
  dataDir = mkdtempSync(join(tmpdir(), 'ensemble-ftps-'));
  [pg, ftps] = await Promise.all([
    startTestPostgres(),
    startPureFtpd({
      dataDir: join(dataDir, 'ftp'),
      port: FTP_PORT,
      user: 'scraper',
      password: 'tls-password',
      passivePorts: [FTP_PORT + 1, FTP_PORT + 10],
      tls: { certFile: cert.certFile, keyFile: cert.keyFile, required: true },
    }),
  ]);
  c = gatewayCluster(STACK, {
    dataRoot: join(dataDir, 'nodes'),
    databaseUrl: await pg.createDatabase('ftps'),
  });
  c.startAll();
  await c.waitForReady();
  await c.waitForAgreement();
  await put(JSON.stringify([listing(1), listing(2)]));
});

after(async () => {
  await gateway?.stop();
  await c?.stopAll();
  await Promise.all([pg?.stop(), ftps?.stop()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('FTPS: the poller against a pure-ftpd that accepts only TLS', { timeout: 120_000 }, () => {
  test('without FTP_TLS_CA the self-signed certificate is refused: said once, polled on, nothing stored', async () => {
    const log: ServiceRecord[] = [];
    const service = await startGateway(log);
    const refused = log.find((r) => r.msg === UNTRUSTED);
    const line = refused ?? (await service.waitFor((r) => r.msg === UNTRUSTED, 10_000, 'the untrusted line'));
    assert.equal(line.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.match(String(line.err), /self[- ]signed certificate/);
    const before = await polls('unreachable');
    await eventually('five more refused polls', async () => (await polls('unreachable')) >= before + 5);
    assert.ok(service.isRunning(), 'the gateway is still running');
    assert.equal(log.filter((r) => r.msg === UNTRUSTED).length, 1, 'one line, not one per tick');
    assert.deepEqual(
      log.filter((r) => r.msg === 'listings file imported from FTP'),
      [],
    );
    assert.deepEqual(await storedFiles(), []);
    await service.stop();
  });

  test('with FTP_TLS_CA naming the certificate, the file is fetched over TLS and the leader stores it', async () => {
    const log: ServiceRecord[] = [];
    const service = await startGateway(log, { FTP_TLS_CA: cert.certFile });
    const imported =
      log.find((r) => r.msg === 'listings file imported from FTP') ??
      (await service.waitFor((r) => r.msg === 'listings file imported from FTP', 10_000, 'the import'));
    assert.equal(imported.importedListings, 2);
    const files = await storedFiles();
    assert.deepEqual(
      files.map((f) => [f.name, f.sha256, f.importedListings]),
      [['latest.json', imported.sha256, 2]],
    );
    const { events } = await gql(
      graphql(`query FtpsTestEvents { events(afterPosition: 0, first: 100) { type data } }`),
    );
    assert.deepEqual(
      events
        .filter((e) => e.type === 'ListingAdded')
        .map((e) => (e.data as { url: string }).url)
        .sort(),
      ['https://shop.example/ftps/1', 'https://shop.example/ftps/2'],
    );
    assert.deepEqual(
      log.filter((r) => r.msg === UNTRUSTED),
      [],
    );
    // The same file is not sent twice.
    const unchanged = await polls('unchanged');
    await eventually('three unchanged polls', async () => (await polls('unchanged')) >= unchanged + 3);
    assert.equal((await storedFiles()).length, 1);
  });
});
