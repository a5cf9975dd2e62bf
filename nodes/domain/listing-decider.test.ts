import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { eventSchemas } from '../../schema/events.js';
import { type ListingInputRaw, listingInput, normalizeUrl } from '../../schema/listing-input.js';
import { DomainError } from './domain-error.js';
import {
  decideListing,
  evolveListing,
  initialListingState,
  type ListingEvent,
  type ListingState,
  listingStreamId,
  type UpsertListing,
} from './listing-decider.js';

const base: ListingInputRaw = {
  title: 'Espresso machine',
  url: 'https://shop.example/p/42?color=red',
  price: 199.9,
  currency: 'CHF',
  priceEur: 212.5,
  scrapedAt: '2025-01-31T12:00:00Z',
};
const upsert = (over: Partial<ListingInputRaw> = {}): UpsertListing => ({
  type: 'UpsertListing',
  ...base,
  ...over,
});

const fold = (events: readonly ListingEvent[], from: ListingState = initialListingState): ListingState =>
  events.reduce(evolveListing, from);
const added = fold(decideListing(upsert(), initialListingState));

describe('listingStreamId', () => {
  test('is the first 32 hex of sha256 of the normalized url', () => {
    const expected = createHash('sha256')
      .update('https://shop.example/p/42?color=red')
      .digest('hex')
      .slice(0, 32);
    assert.equal(listingStreamId(base.url), expected);
    assert.match(listingStreamId(base.url), /^[0-9a-f]{32}$/);
  });

  test('the same listing written differently has the same id', () => {
    for (const variant of [
      'HTTPS://Shop.Example/p/42?color=red',
      'https://shop.example:443/p/42?color=red',
      'https://shop.example/p/42?color=red#reviews',
      '  https://shop.example/p/42?color=red ',
    ]) {
      assert.equal(listingStreamId(variant), listingStreamId(base.url), variant);
    }
  });

  test('a different path, query or query order is a different listing', () => {
    for (const other of [
      'https://shop.example/p/43?color=red',
      'https://shop.example/p/42?color=blue',
      'https://shop.example/P/42?color=red',
      'http://shop.example/p/42?color=red',
    ]) {
      assert.notEqual(listingStreamId(other), listingStreamId(base.url), other);
    }
    assert.notEqual(
      listingStreamId('https://s.example/?a=1&b=2'),
      listingStreamId('https://s.example/?b=2&a=1'),
    );
  });

  test('normalization is idempotent, so the url in the events hashes to the same stream', () => {
    const n = normalizeUrl('HTTPS://Shop.Example:443/a b#x');
    assert.equal(n, 'https://shop.example/a%20b');
    assert.equal(normalizeUrl(n ?? ''), n);
  });

  test('refuses anything but an absolute http(s) url', () => {
    for (const bad of ['/p/42', 'ftp://shop.example/p', 'javascript:alert(1)', 'not a url']) {
      assert.throws(
        () => listingStreamId(bad),
        (e: unknown) => e instanceof DomainError && e.code === 'BAD_USER_INPUT',
      );
    }
  });
});

describe('listingInput', () => {
  // The field named in the message is the key the case changes.
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a blank title', { title: '   ' }, /^title: must not be empty$/],
    ['a 501-character title', { title: 'x'.repeat(501) }, /^title: must be at most 500/],
    ['a missing title', { title: undefined }, /^title: is required$/],
    ['a relative url', { url: '/p/42' }, /^url: must be an absolute http\(s\) URL$/],
    ['an ftp url', { url: 'ftp://shop.example/p/42' }, /^url: must be an absolute http\(s\) URL$/],
    [
      'a url over 2000 characters',
      { url: `https://shop.example/${'a'.repeat(2000)}` },
      /^url: must be at most 2000/,
    ],
    ['a negative price', { price: -0.01 }, /^price: must be ≥ 0$/],
    ['an infinite price', { price: Number.POSITIVE_INFINITY }, /^price: must be a finite number$/],
    ['a NaN priceEur', { priceEur: Number.NaN }, /^priceEur: must be a finite number$/],
    ['a price as text', { price: '12' }, /^price: must be a number$/],
    ['a lowercase currency', { currency: 'eur' }, /^currency: must be 3 uppercase letters/],
    ['a 4-letter currency', { currency: 'EURO' }, /^currency: must be 3 uppercase letters/],
    [
      'a date without offset',
      { scrapedAt: '2025-01-31T12:00:00' },
      /^scrapedAt: must be an ISO 8601 date-time/,
    ],
    ['a date only', { scrapedAt: '2025-01-31' }, /^scrapedAt: must be an ISO 8601 date-time/],
    ['a date as a number', { scrapedAt: 1738324800000 }, /^scrapedAt: must be text$/],
  ];
  for (const [name, over, message] of bad) {
    test(`refuses ${name}, naming the field`, () => {
      const result = listingInput.safeParse({ ...base, ...over });
      assert.equal(result.success, false);
      const error = (() => {
        try {
          decideListing({ ...upsert(), ...over } as UpsertListing, initialListingState);
        } catch (e) {
          return e;
        }
      })();
      assert.ok(error instanceof DomainError && error.code === 'BAD_USER_INPUT', String(error));
      assert.match(error.message, message);
      assert.equal(error.details?.field, Object.keys(over)[0]);
    });
  }

  test('accepts the limits and normalizes', () => {
    const ok = listingInput.parse({
      ...base,
      title: `  ${'t'.repeat(500)}  `,
      url: 'HTTP://Shop.Example/x#frag',
      price: 0,
      priceEur: 0,
      scrapedAt: '2025-01-31T12:00:00.123+02:00',
    });
    assert.equal(ok.title, 't'.repeat(500));
    assert.equal(ok.url, 'http://shop.example/x');
  });
});

describe('UpsertListing', () => {
  test('a new url is ListingAdded with the normalized url and trimmed title', () => {
    const events = decideListing(
      upsert({ title: ' Espresso machine ', url: 'HTTPS://SHOP.example/p/42?color=red' }),
      initialListingState,
    );
    assert.deepEqual(events, [{ type: 'ListingAdded', data: { ...base } }]);
  });

  test('an unchanged listing is no event, however late it was scraped again', () => {
    assert.deepEqual(decideListing(upsert({ scrapedAt: '2025-02-01T00:00:00Z' }), added), []);
    assert.deepEqual(decideListing(upsert({ title: '  Espresso machine\t' }), added), []);
    assert.deepEqual(
      decideListing(upsert({ url: 'https://SHOP.example:443/p/42?color=red#top' }), added),
      [],
    );
  });

  const changes: [string, Partial<ListingInputRaw>, Record<string, unknown>][] = [
    ['title', { title: 'Espresso machine Pro' }, { title: 'Espresso machine Pro' }],
    ['price', { price: 179.9 }, { price: 179.9 }],
    ['currency', { currency: 'EUR' }, { currency: 'EUR' }],
    ['priceEur', { priceEur: 190 }, { priceEur: 190 }],
    [
      'price and priceEur',
      { price: 150, priceEur: 160, title: 'Espresso machine' },
      { price: 150, priceEur: 160 },
    ],
  ];
  for (const [name, over, changed] of changes) {
    test(`a changed ${name} is ListingChanged with only that and scrapedAt`, () => {
      const scrapedAt = '2025-02-01T08:00:00+01:00';
      assert.deepEqual(decideListing(upsert({ ...over, scrapedAt }), added), [
        { type: 'ListingChanged', data: { url: base.url, ...changed, scrapedAt } },
      ]);
    });
  }

  test('an observation older than the current values is stale and ignored; the same instant is not', () => {
    assert.deepEqual(decideListing(upsert({ price: 1, scrapedAt: '2025-01-31T11:59:59Z' }), added), []);
    // 13:00+01:00 is the same instant as 12:00Z.
    assert.equal(
      decideListing(upsert({ price: 1, scrapedAt: '2025-01-31T13:00:00+01:00' }), added).length,
      1,
    );
  });

  test('a state folded from another url is a bug, not a user error', () => {
    assert.throws(
      () => decideListing(upsert({ url: 'https://shop.example/other' }), added),
      (e: unknown) => e instanceof Error && !(e instanceof DomainError),
    );
  });
});

describe('evolveListing', () => {
  test('folds a full history, counting versions', () => {
    const history: ListingEvent[] = [
      { type: 'ListingAdded', data: { ...base } },
      { type: 'ListingChanged', data: { url: base.url, price: 180, scrapedAt: '2025-02-01T00:00:00Z' } },
      {
        type: 'ListingChanged',
        data: {
          url: base.url,
          title: 'New',
          currency: 'EUR',
          priceEur: 180,
          scrapedAt: '2025-02-02T00:00:00Z',
        },
      },
    ];
    assert.deepEqual(fold(history), {
      exists: true,
      version: 3,
      listing: {
        url: base.url,
        title: 'New',
        price: 180,
        currency: 'EUR',
        priceEur: 180,
        scrapedAt: '2025-02-02T00:00:00Z',
      },
    });
  });
});

test('property: random upserts fold to the state the decider saw, and repeating one is a no-op', () => {
  let a = 7;
  const rand = (n: number) => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return (a >>> 8) % n;
  };
  for (let seed = 0; seed < 200; seed++) {
    let state = initialListingState;
    const history: ListingEvent[] = [];
    for (let step = 0; step < 20; step++) {
      const command = upsert({
        title: ['A', 'B', ' A '][rand(3)],
        price: [1, 2, -1][rand(3)],
        currency: ['EUR', 'CHF'][rand(2)],
        priceEur: [1, 2][rand(2)],
        scrapedAt: new Date(Date.UTC(2025, 0, 1 + rand(30))).toISOString(),
      });
      let events: ListingEvent[];
      try {
        events = decideListing(command, state);
      } catch (error) {
        assert.ok(error instanceof DomainError && error.code === 'BAD_USER_INPUT');
        continue;
      }
      for (const e of events) assert.ok(eventSchemas[e.type].safeParse(e.data).success, JSON.stringify(e));
      const next = fold(events, state);
      assert.equal(next.version, state.version + events.length);
      assert.deepEqual(decideListing(command, next), [], 'the same upsert again changes nothing');
      history.push(...events);
      state = next;
      assert.deepEqual(fold(history), state);
    }
  }
});
