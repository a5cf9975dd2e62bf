/** upsertListing and upsertListings on the in-memory store: each test on its own node. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListingInputDto } from '../../api/ports.js';
import { inMemoryNode, N1, refusal } from '../../test-support/in-memory-commands.js';
import { listingStreamId } from '../domain/listing-decider.js';

const lamp: ListingInputDto = {
  title: 'Lamp',
  url: 'https://shop.example/lamp',
  price: 390,
  currency: 'MDL',
  priceEur: 20,
  scrapedAt: new Date('2026-11-24T10:00:00Z'),
};
const mug: ListingInputDto = { ...lamp, title: 'Mug', url: 'https://shop.example/mug' };
const later = (input: ListingInputDto, over: Partial<ListingInputDto>): ListingInputDto => ({
  ...input,
  scrapedAt: new Date(input.scrapedAt.getTime() + 60_000),
  ...over,
});

/** Another request's price change, appended straight to the store. */
function concurrentPrice(node: ReturnType<typeof inMemoryNode>, input: ListingInputDto, price: number) {
  return async () => {
    const stream = `listing-${listingStreamId(input.url)}`;
    const version = (await node.store.readStream(stream)).length;
    await node.store.append(N1, [
      {
        stream,
        expectedVersion: version,
        events: [
          {
            type: 'ListingChanged',
            data: { url: input.url, price, scrapedAt: input.scrapedAt.toISOString() },
          },
        ],
      },
    ]);
  };
}

describe('upsertListing', () => {
  test('adds a new url at version 1, identified by the hash of its url', async () => {
    const node = inMemoryNode();
    const listing = await node.commands.upsertListing(lamp);
    assert.deepEqual(listing, { ...lamp, id: listingStreamId(lamp.url), version: 1 });
    assert.deepEqual(
      node.events('listing-').map((e) => e.type),
      ['ListingAdded'],
    );
  });

  test('the same values again append nothing; a changed price is version 2; a stale one is ignored', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing(lamp);
    assert.equal((await node.commands.upsertListing(lamp)).version, 1);
    const changed = await node.commands.upsertListing(later(lamp, { price: 400 }));
    assert.deepEqual([changed.price, changed.version], [400, 2]);
    const stale = await node.commands.upsertListing({ ...lamp, price: 1 });
    assert.deepEqual([stale.price, stale.version], [400, 2]);
    assert.equal(node.events('listing-').length, 2);
  });

  test('a url that is not http(s) is BAD_USER_INPUT and writes nothing', async () => {
    const node = inMemoryNode();
    const error = await refusal(node.commands.upsertListing({ ...lamp, url: 'ftp://shop.example/x' }));
    assert.deepEqual([error.code, error.message], ['BAD_USER_INPUT', 'url: must be an absolute http(s) URL']);
    assert.deepEqual(node.store.all(), []);
  });

  test('a repeated key answers as the first attempt did and writes nothing', async () => {
    const node = inMemoryNode();
    const first = await node.commands.upsertListing(lamp, 'lamp-1');
    await node.commands.upsertListing(later(lamp, { price: 500 }));
    const again = await node.commands.upsertListing(lamp, 'lamp-1');
    assert.deepEqual(again, first);
    assert.equal(node.events('listing-').length, 2);
  });

  test('a key used for a listing of another url answers with that listing', async () => {
    const node = inMemoryNode();
    const first = await node.commands.upsertListing(lamp, 'shared');
    assert.deepEqual(await node.commands.upsertListing(mug, 'shared'), first);
    assert.equal(node.events('listing-').length, 1);
  });

  test('a key used for a task is BAD_USER_INPUT', async () => {
    const { commands } = inMemoryNode();
    await commands.createTask({ title: 't' }, 'task-key');
    const error = await refusal(commands.upsertListing(lamp, 'task-key'));
    assert.deepEqual(
      [error.code, error.message],
      ['BAD_USER_INPUT', 'idempotencyKey task-key was already used for another kind of command'],
    );
  });

  test('decides again after a concurrent writer', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing(lamp);
    node.store.beforeNextAppend(concurrentPrice(node, lamp, 450));
    const listing = await node.commands.upsertListing(later(lamp, { title: 'Desk lamp' }));
    assert.deepEqual([listing.title, listing.price, listing.version], ['Desk lamp', 390, 3]);
  });
});

describe('upsertListings', () => {
  test('answers in input order with one appendAll; a url twice is folded in order', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing(mug);
    const answers = await node.commands.upsertListings([
      lamp,
      mug, // unchanged: nothing to append
      later(lamp, { price: 410 }), // decided on the state the first lamp leaves
      later(mug, { priceEur: 21 }),
    ]);
    assert.deepEqual(
      answers.map((a) => [a.title, a.price, a.priceEur, a.version]),
      [
        ['Lamp', 390, 20, 1],
        ['Mug', 390, 20, 1],
        ['Lamp', 410, 20, 2],
        ['Mug', 390, 21, 2],
      ],
    );
    assert.deepEqual(
      node.events('listing-').map((e) => [e.type, e.version]),
      [
        ['ListingAdded', 1],
        ['ListingAdded', 1],
        ['ListingChanged', 2],
        ['ListingChanged', 2],
      ],
    );
    assert.equal(node.store.appendsTried, 4, 'the first mug, then one append per change');
  });

  test('the same listing twice in one batch is written once', async () => {
    const node = inMemoryNode();
    const [a, b] = await node.commands.upsertListings([lamp, { ...lamp }]);
    assert.deepEqual(a, b);
    assert.equal(node.events('listing-').length, 1);
  });

  test('repeated keys answer as their first use did, also for another url; nothing is written for them', async () => {
    const node = inMemoryNode();
    const first = await node.commands.upsertListing(lamp, 'k-lamp');
    const answers = await node.commands.upsertListings(
      [later(lamp, { price: 999 }), mug, later(mug, { price: 1 })],
      ['k-lamp', 'k-mug', 'k-lamp'],
    );
    assert.deepEqual(answers[0], first);
    assert.deepEqual(answers[2], first, 'a key first used for the lamp answers with the lamp');
    assert.equal(answers[1]?.title, 'Mug');
    assert.deepEqual(
      node.events('listing-').map((e) => e.data.url),
      [lamp.url, mug.url],
    );
  });

  test('a key used for another kind of command refuses the whole batch', async () => {
    const node = inMemoryNode();
    await node.commands.createTask({ title: 't' }, 'task-key');
    const error = await refusal(node.commands.upsertListings([lamp, mug], [undefined, 'task-key']));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.deepEqual(node.events('listing-'), []);
  });

  test('one bad listing refuses the whole batch', async () => {
    const node = inMemoryNode();
    const error = await refusal(node.commands.upsertListings([lamp, { ...mug, currency: 'euro' }]));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.match(error.message, /^currency: must be 3 uppercase letters/);
    assert.deepEqual(node.events('listing-'), []);
  });

  test('a listing that met a concurrent writer is done again on its own; the others are kept', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing(lamp);
    node.store.beforeNextAppend(concurrentPrice(node, lamp, 450));
    const [lampAnswer, mugAnswer] = await node.commands.upsertListings([
      later(lamp, { title: 'Desk lamp' }),
      mug,
    ]);
    // Decided again on the concurrent price: this newer observation sets title and price.
    assert.deepEqual([lampAnswer?.title, lampAnswer?.price, lampAnswer?.version], ['Desk lamp', 390, 3]);
    assert.equal(mugAnswer?.version, 1);
  });

  test('an empty batch answers [] without asking for the fence', async () => {
    const node = inMemoryNode();
    node.store.claimFence({ term: 2, nodeId: 'n2' });
    assert.deepEqual(await node.commands.upsertListings([]), []);
  });

  test('under a lost fence the batch is NOT_LEADER and nothing is written', async () => {
    const node = inMemoryNode();
    node.store.claimFence({ term: 2, nodeId: 'n2' });
    const error = await refusal(node.commands.upsertListings([lamp, mug]));
    assert.equal(error.code, 'NOT_LEADER');
    assert.equal(node.lost.length, 1);
    assert.deepEqual(node.store.all(), []);
  });
});
