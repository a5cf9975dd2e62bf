/**
 * Runs every interaction transcript in nodes/election/testdata/ against real RaftElection
 * instances and compares each command's output with the text under it.
 *
 * After a deliberate change of behaviour, `REWRITE=1 node scripts/test.js transcripts` writes the
 * actual outputs into the .txt files; read the diff before committing it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InteractionEnv } from './interaction-env.js';
import { parseCommand, parseTranscript, renderTranscript } from './transcript-file.js';

/** The tests run from dist/, the transcripts live in the source tree: find the project root. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the compiled tests');
    dir = parent;
  }
  return dir;
}

const TESTDATA = join(projectRoot(), 'nodes', 'election', 'testdata');
const files = readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.txt'))
  .sort();
const rewrite = process.env.REWRITE === '1';

test('the transcripts are found', () => {
  assert.ok(files.length >= 3, `only ${files.length} transcripts in ${TESTDATA}`);
});

for (const file of files) {
  describe(file, () => {
    const path = join(TESTDATA, file);
    const transcript = parseTranscript(readFileSync(path, 'utf8'), file);
    const env = new InteractionEnv();
    const outputs: string[] = [];
    transcript.blocks.forEach((block, i) => {
      test(`${file}:${block.line} ${block.command}`, () => {
        let actual: string;
        try {
          actual = env.run(parseCommand(block.command));
        } catch (error) {
          actual = `error: ${(error as Error).message}`;
        }
        outputs.push(actual);
        if (rewrite) {
          if (i === transcript.blocks.length - 1) writeFileSync(path, renderTranscript(transcript, outputs));
          return;
        }
        assert.equal(actual, block.expected);
      });
    });
  });
}
