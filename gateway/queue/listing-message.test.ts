import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idempotencyKeyOf, PoisonMessage, parseListingMessage } from './listings-consumer.js';

const good = {
  title: '  Lamp ',
  url: 'HTTPS://Shop.example/lamp',
  price: 390,
  currency: 'MDL',
  priceEur: 20,
  scrapedAt: '2026-11-24T10:00:00Z',
};
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('a queue message', () => {
  test('a valid listing is parsed (title trimmed, url normalized, scrapedAt a Date)', () => {
    const l = parseListingMessage(bytes(good));
    assert.equal(l.title, 'Lamp');
    assert.equal(l.url, 'https://shop.example/lamp');
    assert.deepEqual(l.scrapedAt, new Date('2026-11-24T10:00:00Z'));
  });

  for (const [name, content, reason] of [
    ['not JSON', '{"title": ', /^not JSON: /],
    ['a JSON array', [good], /^not a listing: message: /],
    ['a missing price', { ...good, price: undefined }, /^not a listing: price: is required/],
    ['a negative price', { ...good, priceEur: -1 }, /^not a listing: priceEur: must be ≥ 0/],
    ['a relative url', { ...good, url: '/lamp' }, /^not a listing: url: must be an absolute http\(s\) URL/],
    ['a lowercase currency', { ...good, currency: 'mdl' }, /^not a listing: currency: /],
    ['a date without offset', { ...good, scrapedAt: '2026-11-24 10:00' }, /^not a listing: scrapedAt: /],
  ] as const) {
    test(`${name} is poison, with the reason`, () => {
      assert.throws(
        () => parseListingMessage(bytes(content)),
        (e: Error) => e instanceof PoisonMessage && reason.test(e.message),
      );
    });
  }

  test('the messageId is the idempotency key; without one, the content is', () => {
    const content = bytes(good);
    assert.equal(idempotencyKeyOf({ content, properties: { messageId: 'm-1' } as never }), 'amqp:m-1');
    const a = idempotencyKeyOf({ content, properties: {} as never });
    assert.equal(a, idempotencyKeyOf({ content, properties: { messageId: '' } as never }));
    assert.match(a, /^amqp-sha256:[0-9a-f]{64}$/);
    assert.match(
      idempotencyKeyOf({ content, properties: { messageId: 'x'.repeat(500) } as never }),
      /^amqp-sha256:/,
    );
  });
});
