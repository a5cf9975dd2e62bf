import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogue } from './catalogue.js';
import { type DemoShop, startDemoShop } from './demo-shop.js';

describe('the demo shop', () => {
  let shop: DemoShop;
  before(async () => {
    shop = await startDemoShop({ port: 0 });
  });
  after(() => shop.stop());

  test('five listing pages of ten, linked by rel=next; a page beyond them is 404', async () => {
    const first = await (await fetch(shop.url)).text();
    assert.match(first, /42 produse · pagina 1 din 5/);
    assert.match(first, /<a class="next" rel="next" href="\/\?page=2">/);
    assert.equal((first.match(/class="product-card"/g) ?? []).length, 10);
    const last = await (await fetch(`${shop.url}?page=5`)).text();
    assert.doesNotMatch(last, /rel="next"/);
    assert.equal((await fetch(`${shop.url}?page=6`)).status, 404);
    assert.equal((await fetch(`${shop.url}item/no-such-thing`)).status, 404);
  });

  test('prices are written as shops write them', async () => {
    const page = async (slug: string) => (await fetch(shop.itemUrl(slug))).text();
    assert.match(
      await page('frigider-bosch-kgn39vleb'),
      /<span class="price-current">11\.299,00 MDL<\/span>/,
    );
    assert.match(
      await page('laptop-lenovo-ideapad-slim-5'),
      /<span class="price-current">12 500 lei<\/span>/,
    );
    assert.match(await page('aspirator-dyson-v15-detect'), /<span class="price-current">€549\.99<\/span>/);
    assert.match(await page('casti-sony-wh-1000xm5'), /5 490<sup>,00<\/sup> lei/);
    assert.match(await page('ceas-garmin-fenix-7-pro-solar'), /Preț la cerere/);
  });

  test('POST /admin/reprice: the same seed gives the same new prices on any shop', async () => {
    const other = await startDemoShop({ port: 0 });
    try {
      const response = await fetch(`${other.url}admin/reprice?seed=42`, { method: 'POST' });
      const body = (await response.json()) as { seed: string; changes: unknown[] };
      assert.equal(body.seed, '42');
      assert.deepEqual(body.changes, shop.reprice('42'));
      assert.equal(body.changes.length, catalogue.filter((i) => i.price !== null).length);
      assert.deepEqual(other.items(), shop.items());
      assert.notDeepEqual(shop.items(), catalogue);
    } finally {
      await other.stop();
    }
  });

  test('POST /admin/fail-next: the next pages fail with the status asked for, then it serves again', async () => {
    const set = await fetch(`${shop.url}admin/fail-next?count=2&status=502`, { method: 'POST' });
    assert.deepEqual(await set.json(), { count: 2, status: 502 });
    assert.equal((await fetch(shop.url)).status, 502);
    assert.equal((await fetch(shop.itemUrl('perna-memory-foam'))).status, 502);
    assert.equal((await fetch(shop.url)).status, 200);
    assert.equal((await fetch(`${shop.url}admin/fail-next?count=x`, { method: 'POST' })).status, 400);
  });

  test('POST /admin/slow-next: the next pages are answered only after the delay', async () => {
    const set = await fetch(`${shop.url}admin/slow-next?count=1&ms=400`, { method: 'POST' });
    assert.deepEqual(await set.json(), { count: 1, ms: 400 });
    await assert.rejects(fetch(shop.url, { signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
    assert.equal((await fetch(shop.url, { signal: AbortSignal.timeout(1000) })).status, 200);
    assert.equal((await fetch(`${shop.url}admin/slow-next?ms=-1`, { method: 'POST' })).status, 400);
  });
});
