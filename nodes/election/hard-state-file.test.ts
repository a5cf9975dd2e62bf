import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HardStateFile } from './hard-state-file.js';

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'ensemble-hs-')), 'node', 'raft-state.json');

/** Saves `states` in order through one HardStateFile, as one process does. */
function saved(path: string, ...states: { term: number; votedFor: string | null }[]): void {
  const file = new HardStateFile(path);
  file.load();
  for (const s of states) file.save(s);
  file.close();
}

/** The file with one of its two 512-byte slots overwritten by `bytes` (as a torn write leaves it). */
function damageSlot(path: string, slot: 0 | 1, bytes: string): void {
  const image = readFileSync(path);
  image.fill(0, slot * 512, (slot + 1) * 512);
  image.write(bytes, slot * 512);
  writeFileSync(path, image);
}

test('a missing file is a fresh node at term 0 with no vote', () => {
  assert.deepEqual(new HardStateFile(fresh()).load(), { term: 0, votedFor: null });
});

test('what is saved is what a new process loads, and no temporary file is left behind', () => {
  const path = fresh();
  saved(path, { term: 7, votedFor: 'n2' });
  saved(path, { term: 8, votedFor: null }, { term: 9, votedFor: 'n3' }, { term: 10, votedFor: 'n1' });
  assert.deepEqual(new HardStateFile(path).load(), { term: 10, votedFor: 'n1' });
  saved(path, { term: 11, votedFor: null });
  assert.deepEqual(new HardStateFile(path).load(), { term: 11, votedFor: null });
  assert.deepEqual(readdirSync(join(path, '..')), ['raft-state.json']);
});

test('a save cut short damages only its own slot: the state before it is loaded', () => {
  const path = fresh();
  saved(path, { term: 3, votedFor: 'n1' }, { term: 4, votedFor: 'n2' });
  // The last save (term 4, sequence 2) went to slot 0; cut short, it left half a record.
  damageSlot(path, 0, '{"version":2,"seq":2,"term":4,"vo');
  assert.deepEqual(new HardStateFile(path).load(), { term: 3, votedFor: 'n1' });
  // A record whose CRC does not match its content is damaged too.
  saved(path, { term: 5, votedFor: 'n3' });
  const image = readFileSync(path, 'utf8');
  writeFileSync(path, image.replace('"term":5', '"term":6'));
  assert.deepEqual(new HardStateFile(path).load(), { term: 3, votedFor: 'n1' });
});

test('a file of the first layout (one JSON object) is read, and the first save rewrites it', () => {
  const path = fresh();
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '{"version":1,"term":12,"votedFor":"n2"}\n');
  const file = new HardStateFile(path);
  assert.deepEqual(file.load(), { term: 12, votedFor: 'n2' });
  file.save({ term: 13, votedFor: null });
  file.close();
  assert.equal(readFileSync(path).length, 1024);
  assert.deepEqual(new HardStateFile(path).load(), { term: 13, votedFor: null });
});

for (const [name, content] of [
  ['not JSON', '{"version":1,"term":'],
  ['a negative term', '{"version":1,"term":-1,"votedFor":null}'],
  ['an unknown version', '{"version":3,"term":1,"votedFor":null}'],
  ['an empty vote', '{"version":1,"term":1,"votedFor":""}'],
] as const) {
  test(`a damaged file (${name}) is refused, never silently reset`, () => {
    const path = fresh();
    saved(path, { term: 1, votedFor: null });
    writeFileSync(path, content);
    assert.throws(() => new HardStateFile(path).load(), /damaged/);
  });
}

test('both slots damaged is refused, never silently reset', () => {
  const path = fresh();
  saved(path, { term: 1, votedFor: null }, { term: 2, votedFor: 'n1' });
  damageSlot(path, 0, 'x');
  damageSlot(path, 1, '{"version":2,"seq":1,"term":1,"votedFor":null,"crc":1}');
  assert.throws(() => new HardStateFile(path).load(), /damaged \(no valid slot\)/);
});
