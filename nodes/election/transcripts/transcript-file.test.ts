import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommand, parseTranscript, renderTranscript } from './transcript-file.js';

const TEXT = `# a comment

tick n1 3
----
line one
line two

# before the second
status
----
ok

# trailing
`;

test('a transcript parses into blocks and renders back unchanged', () => {
  const t = parseTranscript(TEXT, 'x.txt');
  assert.deepEqual(
    t.blocks.map((b) => [b.command, b.line, b.expected]),
    [
      ['tick n1 3', 3, 'line one\nline two'],
      ['status', 9, 'ok'],
    ],
  );
  assert.equal(renderTranscript(t, []), TEXT);
});

test('rendering replaces only the outputs', () => {
  const t = parseTranscript(TEXT, 'x.txt');
  assert.equal(renderTranscript(t, ['new', 'ok']), TEXT.replace('line one\nline two', 'new'));
});

test('a command without its separator line is named with its file and line', () => {
  assert.throws(
    () => parseTranscript('status\nok\n', 'y.txt'),
    /y\.txt:1: command "status" must be followed/,
  );
});

test('a command line splits into name, arguments and key=value options', () => {
  const c = parseCommand('cluster n1 voters=a,b prevote=false');
  assert.equal(c.name, 'cluster');
  assert.deepEqual(c.args, ['n1']);
  assert.deepEqual(
    [...c.options],
    [
      ['voters', 'a,b'],
      ['prevote', 'false'],
    ],
  );
});
