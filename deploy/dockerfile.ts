/**
 * A Dockerfile read into stages and instructions, the way BuildKit's parser splits it: parser
 * directives, comments, line continuations (`\`), exec (JSON) and shell forms. Enough to check
 * the file against the source tree without Docker (deploy-files.test.ts).
 */

export const INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

export interface Instruction {
  readonly keyword: string;
  /** The arguments as written (continuations joined with a space). */
  readonly text: string;
  /** The line it starts on (1-based). */
  readonly line: number;
}

export interface Copy {
  readonly from: string | null;
  readonly sources: string[];
  readonly dest: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string | null;
  readonly image: string;
  readonly instructions: Instruction[];
}

export class DockerfileError extends Error {}

/** Split into instructions. Unknown keywords are an error, as they are for `docker build`. */
export function parseInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let i = 0;
  // Parser directives (`# syntax=…`) are comments to us.
  while (i < lines.length) {
    const raw = lines[i] as string;
    const start = i + 1;
    i++;
    if (/^\s*(#|$)/.test(raw)) continue;
    let joined = raw;
    // A line ending in a backslash goes on; comment lines within an instruction are dropped.
    while (/\\\s*$/.test(joined) && i < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      while (i < lines.length && /^\s*#/.test(lines[i] as string)) i++;
      if (i < lines.length) joined += lines[i++] as string;
    }
    const m = /^\s*([A-Za-z]+)(?:\s+(.*))?$/.exec(joined);
    const keyword = m?.[1]?.toUpperCase();
    if (!m || !keyword || !(INSTRUCTIONS as readonly string[]).includes(keyword)) {
      throw new DockerfileError(`line ${start}: unknown instruction: ${raw.trim()}`);
    }
    const args = (m[2] ?? '').replace(/\s+/g, ' ').trim();
    if (args === '') throw new DockerfileError(`line ${start}: ${keyword} has no arguments`);
    out.push({ keyword, text: args, line: start });
  }
  return out;
}

/** The stages, each with its instructions after its FROM. */
export function parseDockerfile(text: string): Stage[] {
  const stages: { name: string | null; image: string; instructions: Instruction[] }[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.text.split(' ').filter((w) => !w.startsWith('--'));
      const [image, as, name] = words;
      if (!image || (as !== undefined && (as.toUpperCase() !== 'AS' || !name))) {
        throw new DockerfileError(`line ${ins.line}: FROM image [AS name], got "${ins.text}"`);
      }
      stages.push({ name: name ?? null, image, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new DockerfileError(`line ${ins.line}: ${ins.keyword} before any FROM`);
      stage.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new DockerfileError('no FROM');
  return stages;
}

/** The words of an exec-form (JSON array) argument, or null for the shell form. */
export function execForm(text: string): string[] | null {
  if (!text.startsWith('[')) return null;
  const words: unknown = JSON.parse(text);
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) {
    throw new DockerfileError(`not a JSON array of strings: ${text}`);
  }
  return words;
}

/** COPY/ADD: flags, sources and destination. */
export function parseCopy(ins: Instruction): Copy {
  let rest = ins.text;
  let from: string | null = null;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    if (m[1] === 'from') from = m[2] ?? null;
    rest = rest.slice(m[0].length);
  }
  const words = execForm(rest) ?? rest.split(' ');
  const dest = words.at(-1);
  if (words.length < 2 || dest === undefined) {
    throw new DockerfileError(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
  }
  return { from, sources: words.slice(0, -1), dest, line: ins.line };
}

/** Where an instruction's relative path lands, given the WORKDIRs before it in the stage. */
export function workdirAt(stage: Stage, line: number): string {
  let dir = '/';
  for (const ins of stage.instructions) {
    if (ins.line >= line) break;
    if (ins.keyword === 'WORKDIR') dir = ins.text.startsWith('/') ? ins.text : `${dir}/${ins.text}`;
  }
  return dir.replace(/\/+$/, '') || '/';
}

/** An absolute path in the image for `path` written at `line` of `stage`. */
export function imagePath(stage: Stage, line: number, path: string): string {
  const abs = path.startsWith('/') ? path : `${workdirAt(stage, line)}/${path}`;
  const parts: string[] = [];
  for (const part of abs.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
