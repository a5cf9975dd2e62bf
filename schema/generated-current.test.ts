/**
 * schema/generated/ (the typed documents of every `graphql(`…`)` operation) is current: the
 * GraphQL Code Generator, run with `--check` on codegen.yml, would change nothing. An operation
 * edited, added or removed, or a schema change, without `npm run codegen` fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/schema/; the generator reads the source tree.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('schema/generated/ is current (run `npm run codegen` after changing an operation or the schema)', () => {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', '.bin', 'graphql-codegen'), '--config', 'codegen.yml', '--check'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 120_000 },
  );
  // Without the generator's progress lines: what is left names the stale files, or the error.
  const output = `${run.stdout}${run.stderr}`
    .split('\n')
    .filter((line) => !/^\s*[❯✔]/.test(line))
    .join('\n');
  assert.ok(run.error === undefined, `the generator did not run: ${run.error?.message}`);
  assert.equal(
    run.status,
    0,
    `schema/generated/ is not what the operations and schema/schema.graphql make: run npm run codegen and commit schema/generated/\n${output}`,
  );
});
