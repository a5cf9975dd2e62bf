/**
 * The offline IDE at `/playground` (Altair) in headless Chromium, used as a person would: with
 * every request that would leave the machine refused, it runs its initial query, uploads a file
 * with the API token (multipart, through the gateway to the leader), and shows a `leaderChanged`
 * subscription's pushes when leadership is handed over and when the leader is killed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { graphql } from '../schema/generated/index.js';
import { type BrowserStack, startBrowserStack } from '../test-support/browser-stack.js';
import { gatewayLeader, gatewayUrlOf, graphqlData } from '../test-support/gateway-stack.js';

const PORT = 15_000;
const GATEWAY = gatewayUrlOf(PORT);
const TOKEN = 'playground-test-token-0123456789';

let stack: BrowserStack;
let page: Page;
const outside: string[] = [];
const problems: string[] = [];

before(async () => {
  stack = await startBrowserStack(
    { basePort: PORT, secret: 'playground-test-secret-0123456789', apiToken: TOKEN },
    'playground',
  );
  page = await stack.browser.newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  // Offline: anything not served by this machine is refused and remembered.
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:')
      return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  await page.goto(`${GATEWAY}/playground/`);
});

after(async () => {
  await stack?.stop();
});

/** Leadership handed to another node through the gateway (with the token): the new term. */
async function transferLeadership(): Promise<{ term: number }> {
  const res = await fetch(`${GATEWAY}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query: 'mutation { transferLeadership { term } }' }),
  });
  const body = (await res.json()) as { data?: { transferLeadership?: { term: number } }; errors?: unknown };
  assert.ok(body.data?.transferLeadership, JSON.stringify(body.errors));
  return body.data.transferLeadership;
}

/** A line of the result pane (a CodeMirror view of the answer's JSON). */
const resultLine = (text: string | RegExp) => page.locator('app-query-result .cm-line', { hasText: text });

/** Replaces the query editor's text as a person would: select all, type. */
async function typeQuery(text: string): Promise<void> {
  await page.getByRole('tab', { name: 'Query' }).click();
  await page.locator('app-query-editor .cm-content').first().click(); // the second is the variables'
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

test('its initial query asks the gateway for the cluster and shows the leader', {
  timeout: 60_000,
}, async () => {
  const leader = await gatewayLeader(GATEWAY);
  await page.getByRole('button', { name: 'Send Request' }).click();
  await resultLine('"LEADER"').first().waitFor({ timeout: 15_000 });
  await resultLine(`"url": "${leader.url}"`).first().waitFor();
});

test('a file chosen in the variables pane is uploaded with the API token and imported', {
  timeout: 60_000,
}, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ensemble-playground-')), 'from-the-playground.json');
  writeFileSync(
    file,
    JSON.stringify([
      {
        title: 'Uploaded from the playground',
        url: 'https://shop.example/playground/1',
        price: 12.5,
        currency: 'EUR',
        priceEur: 12.5,
        scrapedAt: '2026-11-25T00:00:00Z',
      },
    ]),
  );
  await page.getByRole('tab', { name: 'Auth' }).click();
  await page.getByText('No auth').click();
  await page.locator('nz-option-item').filter({ hasText: 'Bearer Token' }).click();
  await page.locator('app-authorization-bearer .cm-content').click();
  await page.keyboard.type(TOKEN);
  await typeQuery('mutation ($file: Upload!) { uploadFile(file: $file) { name importedListings } }');
  await page.getByText('VARIABLES').click();
  await page.getByRole('button', { name: 'Add files' }).click();
  await page.locator('input[data-tid="file_name"]').fill('file');
  await page.locator('input.variables-file-item-input').setInputFiles(file);
  await page.getByRole('button', { name: 'Send Request' }).click();
  await resultLine('"importedListings": 1').waitFor({ timeout: 15_000 });

  const { files } = await graphqlData(
    GATEWAY,
    graphql(`query PlaygroundTestFiles { files { name importedListings } }`),
  );
  assert.deepEqual(
    files.filter((f) => f.name === 'from-the-playground.json'),
    [{ name: 'from-the-playground.json', importedListings: 1 }],
  );
});

test('a leaderChanged subscription shows the new leader when the leader is killed', {
  timeout: 90_000,
}, async () => {
  await typeQuery('subscription { leaderChanged { term leader { id } } }');
  await page.getByRole('button', { name: 'Send Request' }).click();
  await page.getByRole('button', { name: 'Cancel' }).waitFor({ timeout: 15_000 });
  // The IDE offers to cancel before the gateway has the subscription (its WebSocket may still be
  // opening), and a kill's election can beat it: first a leader change the pane shows, made again
  // until one does, proves the subscription live.
  let old = await gatewayLeader(GATEWAY);
  for (let attempt = 1; ; attempt++) {
    const moved = await transferLeadership();
    const shown = await resultLine(`"term": ${moved.term},`)
      .first()
      .waitFor({ timeout: 3_000 })
      .then(
        () => true,
        () => false,
      );
    old = await gatewayLeader(GATEWAY, moved.term - 1);
    if (shown) break;
    assert.ok(attempt < 5, 'no leader change shown by the subscription after 5 transfers');
  }
  await stack.cluster.kill(old.id, 'SIGKILL');
  await gatewayLeader(GATEWAY, old.term);
  // A push of a newer term and another leader (an election may take more than one term, and the
  // pane may show only the latest push, so no one term is waited for).
  const newer = Array.from({ length: 50 }, (_, i) => old.term + 1 + i).join('|');
  await resultLine(new RegExp(`"term": (${newer})\\b`))
    .first()
    .waitFor({ timeout: 15_000 });
  await resultLine(new RegExp(`"id": "(?!${old.id}")`))
    .first()
    .waitFor();
  assert.deepEqual(outside, [], 'nothing fetched from outside the machine');
  assert.deepEqual(problems, []);
});
