import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildEnsembleSchema } from './schema.js';

test('schema/schema.graphql is the schema the nodes serve (run `npm run schema:emit` after a change)', async () => {
  // Compiled to dist/api/; the committed SDL lives in the source tree's schema/.
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema', 'schema.graphql');
  assert.equal(readFileSync(file, 'utf8'), `${printSchema(await buildEnsembleSchema())}\n`);
});
