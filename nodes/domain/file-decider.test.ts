import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { eventSchemas } from '../../schema/events.js';
import { DomainError } from './domain-error.js';
import {
  decideStoreFile,
  evolveFile,
  type FileState,
  fileBaseName,
  fileDecider,
  initialFileState,
  storeFileCommand,
  type Upload,
} from './file-decider.js';

const ID = '2dac5b80-4e3f-4a71-8cbd-2e3f4a5b6c7d';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytes = (text: string) => new TextEncoder().encode(text);
const listing = {
  title: 'Kettle',
  url: 'https://shop.example/kettle',
  price: 30,
  currency: 'EUR',
  priceEur: 30,
  scrapedAt: '2025-01-31T12:00:00Z',
};
const listingsJson = bytes(JSON.stringify([listing, { ...listing, url: 'https://shop.example/mug' }]));
const store = (name: string, content: Uint8Array, over: Partial<Upload> = {}): Upload => ({
  id: ID,
  name,
  bytes: content,
  sha256: sha(content),
  ...over,
});

/** As the upload command does: the StoreFile for the upload, then the decision on it. */
function decide(upload: Upload, state: FileState) {
  const command = storeFileCommand(upload, state);
  return { events: decideStoreFile(command, state), listings: command.listings };
}

function rejects(fn: () => unknown, message: RegExp): DomainError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.match(error.message, message);
    return error;
  }
  assert.fail('expected BAD_USER_INPUT');
}

describe('StoreFile', () => {
  test('a .json listings file is stored with its listings counted and handed back', () => {
    const { events, listings } = decide(store('prices.json', listingsJson), initialFileState);
    assert.deepEqual(events, [
      {
        type: 'FileStored',
        data: {
          id: ID,
          name: 'prices.json',
          size: listingsJson.byteLength,
          sha256: sha(listingsJson),
          importedListings: 2,
        },
      },
    ]);
    assert.equal(listings.length, 2);
    assert.ok(eventSchemas.FileStored.safeParse(events[0]?.data).success);
  });

  test('importedListings counts distinct urls, as upserted', () => {
    const dup = bytes(JSON.stringify([listing, listing]));
    const { events, listings } = decide(store('dup.JSON', dup), initialFileState);
    assert.equal(events[0]?.data.importedListings, 1);
    assert.equal(listings.length, 1);
  });

  test('a .json file that is not a listings file is refused, naming the file and the problem', () => {
    rejects(
      () => decide(store('prices.json', bytes('{"a":1}')), initialFileState),
      /^prices\.json is not a valid listings file: the file must be a JSON array/,
    );
    const error = rejects(
      () =>
        decide(store('Prices.JSON', bytes(JSON.stringify([{ ...listing, price: -1 }]))), initialFileState),
      /item 0: price: must be ≥ 0$/,
    );
    assert.equal(error.details?.index, 0);
  });

  const plain: [string, string, Uint8Array, number][] = [
    ['a text file', 'notes.txt', bytes('hello'), 0],
    ['a binary file', 'photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), 0],
    ['an empty file', 'empty', new Uint8Array(), 0],
    ['a JSON array that is not listings', 'data.txt', bytes('[1, 2]'), 0],
    ['invalid UTF-8 that starts like an array', 'blob.bin', new Uint8Array([0x5b, 0xff]), 0],
    ['a listings array under another name', 'export.dat', listingsJson, 2],
    [
      'a listings array with whitespace and BOM first',
      'x',
      new Uint8Array([0xef, 0xbb, 0xbf, 0x0a, 0x20, ...listingsJson]),
      2,
    ],
  ];
  for (const [what, name, content, imported] of plain) {
    test(`${what} is stored with importedListings ${imported}`, () => {
      const { events, listings } = decide(store(name, content), initialFileState);
      assert.equal(events.length, 1);
      assert.equal(events[0]?.data.importedListings, imported);
      assert.equal(events[0]?.data.size, content.byteLength);
      assert.equal(listings.length, imported);
    });
  }

  test('the same content again is no event and no listings, whatever its name', () => {
    const first = decide(store('prices.json', listingsJson), initialFileState);
    const state = first.events.reduce(evolveFile, initialFileState);
    assert.deepEqual(decide(store('again.json', listingsJson), state), { events: [], listings: [] });
    assert.deepEqual(decide(store('again.txt', listingsJson), state), { events: [], listings: [] });
  });

  test('keeps only the last path segment of the name', () => {
    for (const [given, kept] of [
      ['C:\\Users\\ada\\prices.json', 'prices.json'],
      ['../../etc/prices.json', 'prices.json'],
      ['/upload/a b.txt', 'a b.txt'],
      ['  spaced.txt ', 'spaced.txt'],
      ['ünïcødé 🙂.txt', 'ünïcødé 🙂.txt'],
    ] as const) {
      assert.equal(fileBaseName(given), kept);
    }
  });

  const badNames: [string, string, RegExp][] = [
    ['an empty name', '', /^name: must name a file$/],
    ['a directory', 'uploads/', /^name: must name a file$/],
    ['dot-dot', 'a/..', /^name: must name a file$/],
    ['a newline', 'a\nb.txt', /^name: must not contain control characters$/],
    ['a NUL', 'a\u0000.json', /^name: must not contain control characters$/],
    ['a DEL', 'a\u007f', /^name: must not contain control characters$/],
    ['256 characters', 'n'.repeat(256), /^name: must be at most 255 characters \(got 256\)$/],
  ];
  for (const [what, name, message] of badNames) {
    test(`refuses ${what} in the name`, () => {
      rejects(() => decide(store(name, bytes('x')), initialFileState), message);
    });
  }

  test('accepts a name of exactly 255 characters after stripping directories', () => {
    const name = `dir/${'n'.repeat(255)}`;
    assert.equal(decide(store(name, bytes('x')), initialFileState).events[0]?.data.name, 'n'.repeat(255));
  });

  test('refuses a bad id, a malformed sha256 and one that does not match the bytes', () => {
    rejects(
      () => decide(store('a.txt', bytes('x'), { id: 'file-1' }), initialFileState),
      /^id: must be a UUID$/,
    );
    rejects(
      () => decide(store('a.txt', bytes('x'), { sha256: sha(bytes('x')).toUpperCase() }), initialFileState),
      /^sha256: must be 64 lowercase hex digits$/,
    );
    rejects(
      () => decide(store('a.txt', bytes('x'), { sha256: sha(bytes('y')) }), initialFileState),
      /^sha256: does not match the content$/,
    );
  });
});

describe('fileDecider', () => {
  test('counts the listings the command carries, whatever the bytes', () => {
    const command = { ...storeFileCommand(store('notes.txt', bytes('hello')), initialFileState) };
    assert.equal(command.listings.length, 0);
    const [event] = fileDecider.decide({ ...command, listings: [{ ...listing }] }, initialFileState);
    assert.equal(event?.data.importedListings, 1);
  });
});

describe('evolveFile', () => {
  test('FileStored marks the stream stored, once', () => {
    const { events } = decide(store('prices.json', listingsJson), initialFileState);
    const state = events.reduce(evolveFile, initialFileState);
    const expected: FileState = {
      stored: true,
      version: 1,
      file: {
        id: ID,
        name: 'prices.json',
        size: listingsJson.byteLength,
        sha256: sha(listingsJson),
        importedListings: 2,
      },
    };
    assert.deepEqual(state, expected);
    const [event] = events;
    assert.ok(event);
    const again = evolveFile(state, { ...event, data: { ...event.data, name: 'other' } });
    assert.deepEqual(again, { ...expected, version: 2 }, 'the first FileStored stays the record');
  });
});
