/**
 * The text format of an interaction transcript, after cockroachdb's `datadriven` (which etcd's
 * raft uses for its testdata/*.txt): a command line, a `----` line, then the expected output up to
 * the next blank line. Comment lines (`#`) and blank lines between blocks are kept as written, so
 * rewriting a file with the actual outputs changes nothing but the outputs.
 */

export interface TranscriptBlock {
  /** The comment and blank lines before the command, verbatim. */
  readonly preamble: readonly string[];
  readonly command: string;
  /** 1-based line of the command in its file, for messages. */
  readonly line: number;
  readonly expected: string;
}

export interface Transcript {
  readonly blocks: readonly TranscriptBlock[];
  /** Comment and blank lines after the last block. */
  readonly trailer: readonly string[];
}

const SEPARATOR = '----';

export function parseTranscript(text: string, file: string): Transcript {
  const lines = text.replace(/\n$/, '').split('\n');
  const blocks: TranscriptBlock[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const commandLine = i + 1;
    if (lines[i + 1] !== SEPARATOR) {
      throw new Error(`${file}:${commandLine}: command "${line}" must be followed by a "${SEPARATOR}" line`);
    }
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '') expected.push(lines[i++] as string);
    blocks.push({ preamble, command: line.trim(), line: commandLine, expected: expected.join('\n') });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

/** The transcript with each block's expected output replaced by `outputs[i]`. */
export function renderTranscript(transcript: Transcript, outputs: readonly string[]): string {
  const lines: string[] = [];
  transcript.blocks.forEach((block, i) => {
    lines.push(...block.preamble, block.command, SEPARATOR);
    const output = outputs[i] ?? block.expected;
    if (output !== '') lines.push(output);
  });
  lines.push(...transcript.trailer);
  return `${lines.join('\n')}\n`;
}

/** A command line split into its name, positional arguments and `key=value` options. */
export interface ParsedCommand {
  readonly name: string;
  readonly args: readonly string[];
  readonly options: ReadonlyMap<string, string>;
}

export function parseCommand(command: string): ParsedCommand {
  const [name = '', ...words] = command.split(/\s+/);
  const args: string[] = [];
  const options = new Map<string, string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0) options.set(word.slice(0, eq), word.slice(eq + 1));
    else args.push(word);
  }
  return { name, args, options };
}
