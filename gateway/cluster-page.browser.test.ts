/**
 * The live cluster page in headless Chromium (Debian's, driven by playwright-core): it shows the
 * nodes and the leader, and when the leader is killed it shows the new one, live over graphql-ws.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import type { ServiceProcess } from '../launcher/service-process.js';
import type { LocalCluster } from '../nodes/local-cluster.js';
import { gatewayCluster, gatewayProcess, gatewayUrlOf, startGateway } from '../test-support/gateway-stack.js';
import { startTestPostgres, type TestPostgres } from '../test-support/postgres.js';

const TOKEN = 'page-test-token-0123456789';
const SECRET = 'page-test-secret-0123456789';
const PORT = 14_900;
const GATEWAY = gatewayUrlOf(PORT);

let pg: TestPostgres;
let c: LocalCluster;
let gateway: ServiceProcess;
let browser: Browser;

before(async () => {
  pg = await startTestPostgres();
  const stack = { basePort: PORT, secret: SECRET, apiToken: TOKEN };
  gateway = gatewayProcess(stack);
  await startGateway(gateway);
  c = gatewayCluster(stack, {
    dataRoot: mkdtempSync(join(tmpdir(), 'ensemble-page-')),
    databaseUrl: await pg.createDatabase('page'),
  });
  const announced = gateway.waitFor(
    (r) => r.msg === 'leader announced' || r.msg === 'leader found by health check',
    30_000,
    'a leader',
  );
  c.startAll();
  await announced;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await c?.stopAll();
  await pg?.stop();
});

test('the page shows the leader; kill it and the page shows the new one', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(GATEWAY);
  const leaderCard = page.locator('[data-node][data-role="LEADER"]');
  await leaderCard.waitFor({ timeout: 15_000 });
  const first = await leaderCard.getAttribute('data-node');
  assert.ok(first);
  assert.equal(await page.locator('[data-node]').count(), 3);
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });

  await c.kill(first);
  // The new leader, pushed by leaderChanged; the election feed lists its transition.
  await page.waitForFunction(
    (old) => {
      // Runs in the page; the test's own TypeScript has no DOM types.
      const card = (
        globalThis as unknown as {
          document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
        }
      ).document.querySelector('[data-node][data-role="LEADER"]');
      return card !== null && card.getAttribute('data-node') !== old;
    },
    first,
    { timeout: 20_000 },
  );
  const second = await leaderCard.getAttribute('data-node');
  assert.notEqual(second, first);
  assert.match(
    (await page.getByTestId('summary').textContent()) ?? '',
    new RegExp(`leader ${second} · term \\d+`),
  );
  await page.getByTestId('election-feed').getByText(`★ ${second} leads term`).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(tmpdir(), 'ensemble-cluster-page.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
