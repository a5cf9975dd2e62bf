import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listingMessage } from '../schema/listing-message.js';
import { type DemoShop, startDemoShop } from './demo-shop/demo-shop.js';
import { formatSummary } from './listing-pipeline.js';
import { demoShopProfile } from './profiles/demo-shop.js';
import { type ScrapeShopOptions, scrapeShop } from './scrape-shop.js';
import { loadSiteProfile } from './site-profile.js';

/** What the demo shop's catalogue must scrape to: slug, price, currency, priceEur at 19.5 MDL/EUR. */
const EXPECTED: [string, number, string, number][] = [
  ['smartphone-samsung-galaxy-a55', 7999, 'MDL', 410.21],
  ['laptop-lenovo-ideapad-slim-5', 12500, 'MDL', 641.03],
  ['televizor-lg-55-oled-c4', 24999, 'MDL', 1282],
  ['frigider-bosch-kgn39vleb', 11299, 'MDL', 579.44],
  ['masina-de-spalat-indesit-bwsa-61051', 4599, 'MDL', 235.85],
  ['aspirator-dyson-v15-detect', 549.99, 'EUR', 549.99],
  ['espressor-delonghi-magnifica-s', 6299, 'MDL', 323.03],
  ['casti-sony-wh-1000xm5', 5490, 'MDL', 281.54],
  ['tableta-apple-ipad-air-11-m2', 649, 'EUR', 649],
  // ceas-garmin-fenix-7-pro-solar has no price ("Preț la cerere"); page 2:
  ['bicicleta-trek-marlin-5', 9850, 'MDL', 505.13],
  ['canapea-extensibila-oslo', 8700, 'MDL', 446.15],
  ['scaun-de-birou-markus', 1899, 'MDL', 97.38],
  ['masa-extensibila-stejar', 7450, 'MDL', 382.05],
  ['lampa-de-birou-xiaomi-1s', 599, 'MDL', 30.72],
  ['router-tp-link-archer-ax55', 1349, 'MDL', 69.18],
  ['imprimanta-hp-laserjet-m110we', 1999, 'MDL', 102.51],
  ['monitor-dell-27-s2721ds', 4299, 'MDL', 220.46],
  ['tastatura-logitech-mx-keys-s', 2199, 'MDL', 112.77], // broken markup
  ['mouse-logitech-mx-master-3s', 1699, 'MDL', 87.13],
  // page 3:
  ['boxa-jbl-charge-5', 2799, 'MDL', 143.54],
  ['consola-sony-playstation-5-slim', 10499, 'MDL', 538.41],
  ['joc-ea-sports-fc-25-ps5', 899, 'MDL', 46.1],
  ['cuptor-cu-microunde-samsung', 1799, 'MDL', 92.26],
  ['fierbator-tefal-ko6931', 849, 'MDL', 43.54],
  ['fier-de-calcat-philips-dst7030', 1249.5, 'MDL', 64.08],
  ['blender-vitamix-e310', 399, 'EUR', 399],
  ['trotineta-electrica-xiaomi-4-pro', 8999, 'MDL', 461.49],
  // cort-coleman-darwin-3-plus has no price element
  ['rucsac-deuter-futura-32', 2350, 'MDL', 120.51],
  // page 4:
  ['saltea-ortopedica-dormeo-160x200', 6990, 'MDL', 358.46],
  ['perna-memory-foam', 399, 'MDL', 20.46],
  ['set-oale-tefal-ingenio-13', 2690, 'MDL', 137.95],
  ['robot-de-bucatarie-bosch-mum5', 3999, 'MDL', 205.08],
  ['aer-conditionat-gree-bora-12000', 9499, 'MDL', 487.13],
  ['centrala-termica-vaillant-ecotec-pure', 16800, 'MDL', 861.54],
  ['boiler-electric-ariston-pro1-80', 2999, 'MDL', 153.79],
  ['drona-dji-mini-4-pro', 17990, 'MDL', 922.56], // empty title on its detail page
  // aparat-foto-canon-eos-r50 has no price ("Preț la cerere")
  ['ochelari-vr-meta-quest-3', 10990, 'MDL', 563.59],
  // page 5:
  ['kindle-paperwhite-2024', 189.99, 'EUR', 189.99],
  ['incarcator-anker-735-gan-65w', 749, 'MDL', 38.41],
];

describe('scraping the demo shop', () => {
  let shop: DemoShop;
  const now = new Date('2025-03-01T10:00:00Z');
  const options = (over: Partial<ScrapeShopOptions> = {}): ScrapeShopOptions => ({
    startUrl: shop.url,
    profile: demoShopProfile,
    maxPages: 10,
    concurrency: 4,
    fetchPolicy: { timeoutMs: 5000, attempts: 3, baseDelayMs: 20 },
    range: {},
    perEur: { MDL: 19.5 },
    now,
    ...over,
  });

  /** An item's path below the shop's `item/`, as EXPECTED names it. */
  const slug = (url: string) => url.slice(shop.url.length + 'item/'.length);
  /** Scraped listings in EXPECTED's shape. */
  const asExpected = (
    listings: readonly { url: string; price: number; currency: string; priceEur: number }[],
  ) => listings.map((l) => [slug(l.url), l.price, l.currency, l.priceEur]);

  before(async () => {
    shop = await startDemoShop({ port: 0 });
  });
  after(() => shop.stop());

  test('every page: the exact listings, the items without a price dropped, and the summary', async () => {
    const result = await scrapeShop(options());
    assert.equal(result.listingPages, 5);
    assert.equal(result.detailPages, 42);
    assert.deepEqual(asExpected(result.listings), EXPECTED);
    for (const l of result.listings) {
      assert.equal(l.scrapedAt, '2025-03-01T10:00:00.000Z');
      assert.ok(listingMessage.safeParse(l).success, l.url);
    }
    const titles = new Map(result.listings.map((l) => [l.url, l.title]));
    assert.equal(
      titles.get(shop.itemUrl('espressor-delonghi-magnifica-s')),
      "Espressor De'Longhi Magnifica S ECAM22.110",
    );
    assert.equal(titles.get(shop.itemUrl('tastatura-logitech-mx-keys-s')), 'Tastatură Logitech MX Keys S');
    // Its detail page has an empty heading: the card's title stands.
    assert.equal(titles.get(shop.itemUrl('drona-dji-mini-4-pro')), 'Dronă DJI Mini 4 Pro');
    assert.deepEqual(
      result.dropped.map((d) => [d.url.slice(shop.url.length), d.reason]),
      [
        ['item/ceas-garmin-fenix-7-pro-solar', 'no price'],
        ['item/cort-coleman-darwin-3-plus', 'no price'],
        ['item/aparat-foto-canon-eos-r50', 'no price'],
      ],
    );
    assert.deepEqual(result.summary, {
      count: 39,
      perCurrency: [
        { currency: 'EUR', count: 4, total: 1787.98, average: 447 },
        { currency: 'MDL', count: 35, total: 215776.5, average: 6165.04 },
      ],
      eur: { currency: 'EUR', count: 39, total: 12853.46, average: 329.58 },
      dropped: { 'no price': 3 },
    });
    // As printed at the end of `npm run scrape` (and shown in the README).
    assert.equal(
      formatSummary(result.summary),
      [
        '39 listings, 3 dropped (no price: 3)',
        '  EUR     4 listings  total       1 787.98  average       447.00',
        '  MDL    35 listings  total     215 776.50  average     6 165.04',
        '  all    39 listings  total      12 853.46 EUR  average       329.58 EUR',
      ].join('\n'),
    );
  });

  test('--pages 2 reads two listing pages and asks for no third', async () => {
    const before = shop.requests().length;
    const result = await scrapeShop(options({ maxPages: 2 }));
    assert.equal(result.listingPages, 2);
    assert.equal(result.detailPages, 20);
    assert.deepEqual(
      result.listings.map((l) => slug(l.url)),
      EXPECTED.slice(0, 19).map(([slug]) => slug),
    );
    const asked = shop.requests().slice(before);
    assert.deepEqual(
      asked.filter((path) => !path.startsWith('/item/')),
      ['/', '/?page=2'],
    );
    assert.equal(asked.length, 22);
  });

  test('--min-price and --max-price filter on priceEur, inclusive', async () => {
    const result = await scrapeShop(options({ range: { minPriceEur: 399, maxPriceEur: 641.03 } }));
    assert.deepEqual(
      result.listings.map((l) => l.priceEur),
      EXPECTED.map(([, , , eur]) => eur).filter((eur) => eur >= 399 && eur <= 641.03),
    );
    assert.ok(result.listings.some((l) => l.priceEur === 399));
    assert.ok(result.listings.some((l) => l.priceEur === 641.03));
    assert.equal(
      result.summary.dropped['below --min-price'],
      EXPECTED.filter(([, , , eur]) => eur < 399).length,
    );
    assert.equal(
      result.summary.dropped['above --max-price'],
      EXPECTED.filter(([, , , eur]) => eur > 641.03).length,
    );
  });

  test('a page that fails once is fetched again', async () => {
    const retried: string[] = [];
    const before = shop.requests().length;
    shop.failNext(1);
    const result = await scrapeShop(options({ maxPages: 1, onRetry: (url) => retried.push(url) }));
    assert.deepEqual(retried, [shop.url]);
    assert.deepEqual(shop.requests().slice(before, before + 2), ['/', '/']);
    assert.equal(result.listings.length, 9);
  });

  test('a page slower than the timeout is abandoned and fetched again', async () => {
    const retried: [string, string][] = [];
    const before = shop.requests().length;
    shop.slowNext(1, 2000);
    const result = await scrapeShop(
      options({
        maxPages: 1,
        fetchPolicy: { timeoutMs: 250, attempts: 3, baseDelayMs: 20 },
        onRetry: (url, error) => retried.push([url, (error as Error).name]),
      }),
    );
    assert.deepEqual(retried, [[shop.url, 'TimeoutError']]);
    assert.deepEqual(shop.requests().slice(before, before + 2), ['/', '/']);
    assert.equal(result.listings.length, 9);
  });

  test('a listing page that is not found (404) is not asked again and fails the scrape', async () => {
    const before = shop.requests().length;
    await assert.rejects(scrapeShop(options({ startUrl: `${shop.url}?page=9` })), {
      name: 'Error',
      message: `${shop.url}?page=9: HTTP 404`,
    });
    assert.deepEqual(shop.requests().slice(before), ['/?page=9']);
  });

  test('--concurrency: at most that many requests at a time, and that many in parallel', async () => {
    for (const concurrency of [1, 3]) {
      shop.peakConcurrency(); // a new count
      // Every page answers after 30 ms, so that requests overlap whenever the scraper lets them.
      shop.slowNext(47, 30);
      const result = await scrapeShop(options({ concurrency }));
      shop.slowNext(0, 0);
      assert.equal(result.listings.length, 39);
      assert.equal(shop.peakConcurrency(), concurrency);
    }
  });

  test('a detail page that keeps failing loses only its item', async () => {
    // The listing page comes first, then the details one at a time: the first detail fails.
    const result = await scrapeShop(
      options({
        maxPages: 1,
        concurrency: 1,
        fetchPolicy: { timeoutMs: 5000, attempts: 1, baseDelayMs: 1 },
        onProgress: ({ done }) => {
          if (done === 1) shop.failNext(1, 500);
        },
      }),
    );
    assert.equal(result.listings.length, 8);
    assert.deepEqual(result.dropped[0], {
      url: shop.itemUrl('smartphone-samsung-galaxy-a55'),
      reason: 'unreadable page',
      detail: `${shop.itemUrl('smartphone-samsung-galaxy-a55')}: HTTP 500`,
    });
  });

  test('a site profile from a JSON file: cards only, no detail pages, the same listings in 5 requests', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'scraper-profile-')), 'cards-only.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'demo shop, listing pages only',
        startUrl: shop.url,
        listing: {
          item: 'article.product-card',
          link: 'a.product-link',
          title: 'h2.product-title',
          price: '.price-box .price',
          nextPage: 'nav.pagination a.next',
        },
        price: { decimalSeparator: 'auto', defaultCurrency: 'MDL' },
      }),
    );
    const before = shop.requests().length;
    const result = await scrapeShop(options({ profile: loadSiteProfile(path) }));
    assert.equal(shop.requests().length - before, 5);
    assert.deepEqual([result.listingPages, result.detailPages], [5, 0]);
    assert.deepEqual(asExpected(result.listings), EXPECTED);
    assert.deepEqual(result.summary.dropped, { 'no price': 3 });
  });

  test('after a reprice, a re-scrape finds the new prices', async () => {
    const changes = shop.reprice('test-seed');
    assert.equal(changes.length, 39);
    const result = await scrapeShop(options());
    const prices = new Map(result.listings.map((l) => [l.url, l.price]));
    for (const change of changes) {
      assert.notEqual(change.after, change.before);
      assert.equal(prices.get(shop.itemUrl(change.slug)), change.after, change.slug);
    }
  });
});
