import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListingMessage } from '../schema/listing-message.js';
import { filterListings, formatSummary, type MapOptions, mapListing, summarise } from './listing-pipeline.js';

const options: MapOptions = {
  priceFormat: { decimalSeparator: 'auto' },
  perEur: { MDL: 19.5 },
  scrapedAt: '2025-03-01T10:00:00.000Z',
};
const url = 'https://shop.example/item/1';

describe('mapListing', () => {
  test('reads the price, converts MDL to EUR at the rate and stamps the time', () => {
    assert.deepEqual(mapListing({ url, title: 'Frigider', priceText: '1.299,00 MDL' }, options), {
      listing: {
        title: 'Frigider',
        url,
        price: 1299,
        currency: 'MDL',
        priceEur: 66.62, // 1299 / 19.5 = 66.615…
        scrapedAt: '2025-03-01T10:00:00.000Z',
      },
    });
  });

  test('a euro price is its own priceEur', () => {
    const mapped = mapListing({ url, title: 'Dyson', priceText: '€549.99' }, options);
    assert.ok('listing' in mapped);
    assert.equal(mapped.listing.priceEur, 549.99);
    assert.equal(mapped.listing.currency, 'EUR');
  });

  test('another rate gives another priceEur', () => {
    const mapped = mapListing(
      { url, title: 'Laptop', priceText: '12 500 lei' },
      { ...options, perEur: { MDL: 20 } },
    );
    assert.ok('listing' in mapped);
    assert.equal(mapped.listing.priceEur, 625);
  });

  test('what cannot be a listing is dropped with the reason', () => {
    const reasons = [
      mapListing({ url, title: 'Ceas', priceText: 'Preț la cerere' }, options),
      mapListing({ url, title: 'Cort' }, options),
      mapListing({ url, priceText: '100 lei' }, options),
      mapListing({ url, title: 'Căni', priceText: '$12.00' }, options),
      mapListing({ url, title: 'X', error: 'http://x/: HTTP 404' }, options),
      mapListing({ url: 'not a url', title: 'Y', priceText: '10 lei' }, options),
    ].map((m) => ('dropped' in m ? m.dropped.reason : 'kept'));
    assert.deepEqual(reasons, [
      'no price',
      'no price',
      'no title',
      'unknown currency',
      'unreadable page',
      'invalid listing',
    ]);
  });
});

const listing = (price: number, currency: string, priceEur: number, n: number): ListingMessage => ({
  title: `Item ${n}`,
  url: `https://shop.example/item/${n}`,
  price,
  currency,
  priceEur,
  scrapedAt: options.scrapedAt,
});
const sample = [
  listing(1950, 'MDL', 100, 1),
  listing(3900, 'MDL', 200, 2),
  listing(99.99, 'EUR', 99.99, 3),
  listing(19.5, 'MDL', 1, 4),
];

describe('filterListings', () => {
  test('keeps priceEur within min..max, both inclusive', () => {
    const { kept, dropped } = filterListings(sample, { minPriceEur: 99.99, maxPriceEur: 200 });
    assert.deepEqual(
      kept.map((l) => l.priceEur),
      [100, 200, 99.99],
    );
    assert.deepEqual(dropped, [
      { url: 'https://shop.example/item/4', reason: 'below --min-price', detail: '1 EUR' },
    ]);
  });

  test('above the maximum is dropped; no bounds keeps everything', () => {
    assert.deepEqual(
      filterListings(sample, { maxPriceEur: 100 }).dropped.map((d) => d.reason),
      ['above --max-price'],
    );
    assert.equal(filterListings(sample, {}).kept.length, 4);
  });
});

describe('summarise', () => {
  test('count, total and average per currency and in euros over all, and the drops by reason', () => {
    const summary = summarise(sample, [
      { url, reason: 'no price' },
      { url, reason: 'no price' },
      { url, reason: 'above --max-price' },
    ]);
    assert.deepEqual(summary, {
      count: 4,
      perCurrency: [
        { currency: 'EUR', count: 1, total: 99.99, average: 99.99 },
        { currency: 'MDL', count: 3, total: 5869.5, average: 1956.5 },
      ],
      eur: { currency: 'EUR', count: 4, total: 400.99, average: 100.25 },
      dropped: { 'no price': 2, 'above --max-price': 1 },
    });
    assert.equal(
      formatSummary(summary),
      [
        '4 listings, 3 dropped (no price: 2, above --max-price: 1)',
        '  EUR     1 listings  total          99.99  average        99.99',
        '  MDL     3 listings  total       5 869.50  average     1 956.50',
        '  all     4 listings  total         400.99 EUR  average       100.25 EUR',
      ].join('\n'),
    );
  });

  test('nothing scraped is a summary of zeros', () => {
    assert.deepEqual(summarise([]), {
      count: 0,
      perCurrency: [],
      eur: { currency: 'EUR', count: 0, total: 0, average: 0 },
      dropped: {},
    });
  });
});
