import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HardStateFile } from './hard-state-file.js';

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'ensemble-hs-')), 'node', 'raft-state.json');

test('a missing file is a fresh node at term 0 with no vote', () => {
  assert.deepEqual(new HardStateFile(fresh()).load(), { term: 0, votedFor: null });
});

test('what is saved is what a new process loads, and no temporary file is left behind', () => {
  const path = fresh();
  new HardStateFile(path).save({ term: 7, votedFor: 'n2' });
  new HardStateFile(path).save({ term: 8, votedFor: null });
  assert.deepEqual(new HardStateFile(path).load(), { term: 8, votedFor: null });
  assert.deepEqual(readdirSync(join(path, '..')), ['raft-state.json']);
});

for (const [name, content] of [
  ['not JSON', '{"version":1,"term":'],
  ['a negative term', '{"version":1,"term":-1,"votedFor":null}'],
  ['an unknown version', '{"version":2,"term":1,"votedFor":null}'],
  ['an empty vote', '{"version":1,"term":1,"votedFor":""}'],
] as const) {
  test(`a damaged file (${name}) is refused, never silently reset`, () => {
    const path = fresh();
    new HardStateFile(path).save({ term: 1, votedFor: null });
    writeFileSync(path, content);
    assert.throws(() => new HardStateFile(path).load(), /damaged/);
  });
}
