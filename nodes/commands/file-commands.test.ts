/** uploadFile on the in-memory store: each test on its own node. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { inMemoryNode, N1, refusal } from '../../test-support/in-memory-commands.js';
import { listingStreamId } from '../domain/listing-decider.js';

const listing = (url: string, price = 30) => ({
  title: 'Kettle',
  url,
  price,
  currency: 'EUR',
  priceEur: price,
  scrapedAt: '2026-11-24T10:00:00Z',
});
const file = (name: string, content: unknown) => ({
  name,
  bytes: Buffer.from(typeof content === 'string' ? content : JSON.stringify(content)),
});
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const KETTLE = 'https://shop.example/kettle';
const MUG = 'https://shop.example/mug';

describe('uploadFile', () => {
  test('a plain file is stored with its bytes, importing nothing', async () => {
    const node = inMemoryNode();
    const upload = file('notes.txt', 'hello');
    const stored = await node.commands.uploadFile(upload);
    assert.deepEqual(
      { ...stored, id: undefined, createdAt: undefined },
      {
        id: undefined,
        name: 'notes.txt',
        size: 5,
        sha256: sha(upload.bytes),
        importedListings: 0,
        createdAt: undefined,
      },
    );
    assert.deepEqual(node.store.blob(sha(upload.bytes)), upload.bytes);
    assert.deepEqual(node.events('listing-'), []);
  });

  test('a listings file imports its listings in the same append as the file', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing({ ...listing(MUG), scrapedAt: new Date('2026-11-01T00:00:00Z') });
    const tried = node.store.appendsTried;
    const stored = await node.commands.uploadFile(file('prices.json', [listing(KETTLE), listing(MUG, 35)]));
    assert.equal(stored.importedListings, 2);
    assert.equal(node.store.appendsTried, tried + 1, 'one append for the file and its listings');
    assert.deepEqual(
      node.events('').map((e) => [e.stream, e.type]),
      [
        [`listing-${listingStreamId(MUG)}`, 'ListingAdded'],
        [`file-${stored.sha256}`, 'FileStored'],
        [`listing-${listingStreamId(KETTLE)}`, 'ListingAdded'],
        [`listing-${listingStreamId(MUG)}`, 'ListingChanged'],
      ],
    );
  });

  test('a listing the file does not change is not appended', async () => {
    const node = inMemoryNode();
    await node.commands.upsertListing({ ...listing(MUG), scrapedAt: new Date('2026-11-24T10:00:00Z') });
    const stored = await node.commands.uploadFile(file('prices.json', [listing(MUG)]));
    assert.equal(stored.importedListings, 1);
    assert.equal(node.events('listing-').length, 1);
  });

  test('a .json file with a bad listing is refused whole: no file, no listing', async () => {
    const node = inMemoryNode();
    const error = await refusal(
      node.commands.uploadFile(file('prices.json', [listing(KETTLE), { ...listing(MUG), price: -1 }])),
    );
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.equal(error.message, 'prices.json is not a valid listings file: item 1: price: must be ≥ 0');
    assert.deepEqual(node.store.all(), []);
  });

  test('the same content again answers with the stored file and writes nothing', async () => {
    const node = inMemoryNode();
    const first = await node.commands.uploadFile(file('prices.json', [listing(KETTLE)]));
    const tried = node.store.appendsTried;
    const again = await node.commands.uploadFile(file('copy.txt', [listing(KETTLE)]));
    assert.deepEqual(again, first);
    assert.equal(node.store.appendsTried, tried);
  });

  test('a repeated key answers with the first file, whatever is sent again', async () => {
    const node = inMemoryNode();
    const first = await node.commands.uploadFile(file('a.txt', 'a'), 'upload-1');
    assert.deepEqual(await node.commands.uploadFile(file('b.json', 'not json'), 'upload-1'), first);
    assert.equal(node.events('file-').length, 1);
  });

  test('a listing stream moved by a concurrent writer: decided again, imported whole', async () => {
    const node = inMemoryNode();
    node.store.beforeNextAppend(async () => {
      await node.store.append(N1, [
        {
          stream: `listing-${listingStreamId(KETTLE)}`,
          expectedVersion: 0,
          events: [{ type: 'ListingAdded', data: { ...listing(KETTLE, 10) } }],
        },
      ]);
    });
    const stored = await node.commands.uploadFile(file('prices.json', [listing(KETTLE)]));
    assert.equal(stored.importedListings, 1);
    assert.deepEqual(
      node.events('listing-').map((e) => [e.type, e.data.price]),
      [
        ['ListingAdded', 10],
        ['ListingChanged', 30],
      ],
    );
  });
});
