/**
 * `npm start` and `npm test` on a fresh clone install what they need first (prestart, pretest:
 * scripts/ensure-installed.js): npm ci when node_modules is missing or older than the lock file,
 * nothing when it is current. Run against a small package of its own, so that nothing here is
 * reinstalled.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root: the first folder above this (compiled) file that holds package.json. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const script = join(repositoryRoot(), 'scripts', 'ensure-installed.js');

function run(cwd: string) {
  const result = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

test('npm ci runs when node_modules is missing or older than package-lock.json, and not when current', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ensemble-first-contact-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 't', version: '1.0.0', private: true }));
    const lock = { name: 't', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': {} } };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));

    const fresh = run(dir);
    assert.equal(fresh.status, 0, fresh.out);
    assert.match(fresh.out, /node_modules is missing: running npm ci first/);
    assert.match(fresh.out, /up to date|added/, 'npm ci itself ran');

    // As npm leaves it after an install: its own record, newer than the lock.
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', '.package-lock.json'),
      readFileSync(join(dir, 'package-lock.json')),
    );
    const current = run(dir);
    assert.deepEqual(current, { status: 0, out: '' });

    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'package-lock.json'), later, later);
    const stale = run(dir);
    assert.equal(stale.status, 0, stale.out);
    assert.match(stale.out, /package-lock.json is newer than node_modules: running npm ci first/);

    rmSync(join(dir, 'package-lock.json'));
    const noLock = run(dir);
    assert.equal(noLock.status, 1);
    assert.match(noLock.out, /package-lock.json is missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
