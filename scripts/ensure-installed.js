// Runs before `npm start` and `npm test` (prestart, pretest): on a fresh clone, or after
// package-lock.json changed, it installs exactly the locked dependencies (`npm ci`) first, so the
// two commands are the whole set-up. Node's own modules only: it runs before anything is installed,
// on whatever Node runs npm.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

const modifiedAt = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
};

// npm writes node_modules/.package-lock.json on every install: its age is the install's.
const installed = modifiedAt('node_modules/.package-lock.json');
const locked = modifiedAt('package-lock.json');
if (locked === null) {
  console.error('package-lock.json is missing: run this from the repository root');
  process.exit(1);
}
if (installed !== null && installed >= locked) process.exit(0);
console.log(
  installed === null
    ? 'node_modules is missing: running npm ci first'
    : 'package-lock.json is newer than node_modules: running npm ci first',
);
const npm = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], {
  stdio: 'inherit',
});
process.exit(npm.status ?? 1);
