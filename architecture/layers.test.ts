/**
 * The architecture rules in `.dependency-cruiser.mjs` (`npm run check:layers`, part of `npm test`)
 * fail on each kind of import they forbid, naming the rule, and the real tree passes them. The
 * forbidden imports are the ones this project had: a contract in schema/ importing a node's decider,
 * a type-only cycle in api/, a node module importing the launcher.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/architecture/; the config and dependency-cruiser live at the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const config = join(root, '.dependency-cruiser.mjs');
// The project's pinned Node (the `node` devDependency), as under `npm run`: dependency-cruiser needs
// Node ≥ 22, and `node scripts/test.js` may have been started by an older system Node.
const node = join(root, 'node_modules', '.bin', 'node');

/** Runs the check as `npm run check:layers` does, in `cwd`. */
function checkLayers(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(
    node,
    [depcruise, '--config', config, '--output-type', 'err-long', '--progress', 'none', '.'],
    { cwd, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const trees: string[] = [];
after(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway source tree: path → contents. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  trees.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the layer check', () => {
  const forbidden: [string, Record<string, string>, RegExp][] = [
    [
      'schema/ importing a node module',
      {
        'schema/listing-message.ts': "export { listingInput } from '../nodes/domain/listing-decider.js';\n",
        'nodes/domain/listing-decider.ts': 'export const listingInput = {};\n',
      },
      /error schema-above-common-only: schema\/listing-message\.ts → nodes\/domain\/listing-decider\.ts/,
    ],
    [
      'a cycle of type-only imports',
      {
        'api/auth.ts':
          "import type { Context } from './context.js';\nexport type Check = (c: Context) => boolean;\n",
        'api/context.ts':
          "import type { Check } from './auth.js';\nexport interface Context { check: Check }\n",
      },
      /error no-circular: api\/(auth|context)\.ts →\s+api\/(context|auth)\.ts →/,
    ],
    [
      'a node module importing the launcher',
      {
        'nodes/local-cluster.ts': "export { LogWaiters } from '../launcher/log-waiters.js';\n",
        'launcher/log-waiters.ts': 'export class LogWaiters {}\n',
      },
      /error only-tests-use-the-harness: nodes\/local-cluster\.ts → launcher\/log-waiters\.ts/,
    ],
    [
      'one service importing another',
      {
        'gateway/healthz.ts': "export { role } from '../nodes/roles.js';\n",
        'nodes/roles.ts': "export const role = 'leader';\n",
      },
      /error services-beside-each-other: gateway\/healthz\.ts → nodes\/roles\.ts/,
    ],
    [
      'an import that resolves to nothing',
      { 'api/schema.ts': "export { x } from '../schema/missing.js';\n" },
      /error no-unresolvable: api\/schema\.ts → \.\.\/schema\/missing\.js/,
    ],
  ];
  for (const [name, files, message] of forbidden) {
    test(`fails on ${name}, naming the rule`, () => {
      const { status, output } = checkLayers(tree(files));
      assert.notEqual(status, 0, output);
      assert.match(output, message);
    });
  }

  test('lets a test use the launcher and the module it tests', () => {
    const { status, output } = checkLayers(
      tree({
        'nodes/cluster.process.test.ts':
          "import { LocalCluster } from '../launcher/local-cluster.js';\nvoid LocalCluster;\n",
        'launcher/local-cluster.ts':
          "import { main } from '../nodes/main.js';\nexport class LocalCluster { m = main; }\n",
        'nodes/main.ts': 'export const main = 1;\n',
      }),
    );
    assert.equal(status, 0, output);
  });

  test('passes on this repository', () => {
    const { status, output } = checkLayers(root);
    assert.equal(status, 0, output);
    assert.match(output, /no dependency violations found/);
  });
});
