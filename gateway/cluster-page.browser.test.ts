/**
 * The live cluster page in headless Chromium (Debian's, driven by playwright-core): it shows the
 * nodes and the leader, and when the leader is killed it shows the new one, live over graphql-ws.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrowserStack, startBrowserStack } from '../test-support/browser-stack.js';
import { gatewayUrlOf } from '../test-support/gateway-stack.js';

const PORT = 14_900;
const GATEWAY = gatewayUrlOf(PORT);

let stack: BrowserStack;

before(async () => {
  stack = await startBrowserStack(
    { basePort: PORT, secret: 'page-test-secret-0123456789', apiToken: 'page-test-token-0123456789' },
    'page',
  );
});

after(async () => {
  await stack?.stop();
});

test('the page shows the leader; kill it and the page shows the new one', { timeout: 120_000 }, async () => {
  const page = await stack.browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(GATEWAY);
  const leaderCard = page.locator('[data-node][data-role="LEADER"]');
  await leaderCard.waitFor({ timeout: 15_000 });
  const first = await leaderCard.getAttribute('data-node');
  assert.ok(first);
  assert.equal(await page.locator('[data-node]').count(), 3);
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });

  await stack.cluster.kill(first);
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
