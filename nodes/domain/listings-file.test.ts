import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from './domain-error.js';
import { MAX_LISTINGS_PER_FILE, parseListingsFile } from './listings-file.js';

const item = (over: Record<string, unknown> = {}) => ({
  title: 'Kettle',
  url: 'https://shop.example/kettle',
  price: 30,
  currency: 'EUR',
  priceEur: 30,
  scrapedAt: '2025-01-31T12:00:00Z',
  ...over,
});
const bytes = (text: string) => new TextEncoder().encode(text);
const file = (items: unknown) => bytes(JSON.stringify(items));

function rejects(input: Uint8Array, message: RegExp): DomainError {
  try {
    parseListingsFile(input);
  } catch (error) {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.match(error.message, message);
    return error;
  }
  assert.fail('expected BAD_USER_INPUT');
}

describe('parseListingsFile', () => {
  test('parses a valid file, normalizing every item', () => {
    const parsed = parseListingsFile(
      file([item(), item({ url: 'https://SHOP.example/mug', title: ' Mug ', price: 0, priceEur: 0 })]),
    );
    assert.deepEqual(parsed, [
      item(),
      item({ url: 'https://shop.example/mug', title: 'Mug', price: 0, priceEur: 0 }),
    ]);
  });

  test('an empty array is no listings; a UTF-8 BOM and unknown keys are tolerated', () => {
    assert.deepEqual(parseListingsFile(bytes('[]')), []);
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...file([item({ shop: 'x' })])]);
    assert.deepEqual(parseListingsFile(withBom), [item()]);
  });

  test('a duplicated url: the last occurrence wins, in the place it last appeared', () => {
    const parsed = parseListingsFile(
      file([
        item({ price: 1 }),
        item({ url: 'https://shop.example/mug' }),
        item({ url: 'https://shop.example/kettle#again', price: 3 }),
      ]),
    );
    assert.deepEqual(
      parsed.map((l) => [l.url, l.price]),
      [
        ['https://shop.example/mug', 30],
        ['https://shop.example/kettle', 3],
      ],
    );
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['invalid UTF-8', new Uint8Array([0x5b, 0xff, 0x5d]), /^the file is not valid UTF-8$/],
    ['not JSON', bytes('title,url\nKettle,https://x'), /^the file is not valid JSON: /],
    ['truncated JSON', bytes('[{"title":'), /^the file is not valid JSON: /],
    ['a JSON object', file({ listings: [item()] }), /^the file must be a JSON array of listings$/],
    ['an empty file', bytes(''), /^the file is not valid JSON/],
    ['an item that is not an object', file([item(), 'Kettle']), /^item 1: must be an object$/],
    ['an item that is null', file([null]), /^item 0: must be an object$/],
    ['a negative price', file([item(), item(), item(), item({ price: -1 })]), /^item 3: price: must be ≥ 0$/],
    ['a missing url', file([item({ url: undefined })]), /^item 0: url: is required$/],
    [
      'a bad currency',
      file([item(), item({ currency: 'euro' })]),
      /^item 1: currency: must be 3 uppercase letters/,
    ],
    [
      'a bad date',
      file([item({ scrapedAt: 'yesterday' })]),
      /^item 0: scrapedAt: must be an ISO 8601 date-time/,
    ],
  ];
  for (const [name, input, message] of bad) {
    test(`refuses ${name}`, () => {
      rejects(input, message);
    });
  }

  test('names the first bad item and its field in the details', () => {
    const error = rejects(file([item(), item({ title: '' }), item({ price: -1 })]), /^item 1: title: /);
    assert.deepEqual(error.details, { index: 1, field: 'title' });
  });

  test(`accepts ${MAX_LISTINGS_PER_FILE} items and refuses one more`, () => {
    const one = JSON.stringify(item());
    const many = (n: number) => bytes(`[${Array.from({ length: n }, () => one).join(',')}]`);
    assert.equal(parseListingsFile(many(MAX_LISTINGS_PER_FILE)).length, 1, 'all the same url');
    rejects(many(MAX_LISTINGS_PER_FILE + 1), /has 100001 listings; at most 100000/);
  });
});
