// Runs every compiled test file with node's own test runner. Suites that start real processes
// and servers run one file at a time so that timing-sensitive elections are not starved of CPU.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path, out);
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = find('dist').sort();
const only = process.argv.slice(2);
const selected = only.length > 0 ? files.filter((f) => only.some((o) => f.includes(o))) : files;
// With no files, node --test would go looking for tests itself (sources included): refuse.
if (selected.length === 0) {
  console.error(`no compiled test file matches ${only.join(' ')} (did tsc run?)`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...selected], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
