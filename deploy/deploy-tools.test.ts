// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import {
  InterpolationError,
  interpolate,
  parseEnvFile,
  parsePort,
  parseVolume,
  variablesIn,
} from './compose-file.js';
import { execForm, imagePath, parseCopy, parseDockerfile, parseInstructions } from './dockerfile.js';
import { packageName, runtimeNeeds } from './runtime-files.js';
import { schemaKeys } from './schema-keys.js';

test('interpolation follows Compose: defaults, required, alternatives, $$', () => {
  const env = { SET: 'v', EMPTY: '' };
  assert.equal(interpolate('${SET:-d} ${EMPTY:-d} ${UNSET:-d}', env), 'v d d');
  assert.equal(interpolate('${SET-d} ${EMPTY-d} ${UNSET-d}', env), 'v  d');
  assert.equal(interpolate('${SET:+a}|${EMPTY:+a}|${EMPTY+a}|${UNSET+a}', env), 'a||a|');
  assert.equal(interpolate('$SET/${SET} costs $$5', env), 'v/v costs $5');
  assert.equal(interpolate('${EMPTY?x}', env), '');
  assert.throws(() => interpolate('${EMPTY:?set EMPTY in .env}', env), InterpolationError);
  assert.throws(() => interpolate('${UNSET?gone}', env), /UNSET: gone/);
  assert.deepEqual(
    variablesIn('a ${A:?need A} $$B ${C:-x-y} $D').map((v) => `${v.name}${v.operator}${v.argument}`),
    ['A:?need A', 'C:-x-y', 'D'],
  );
});

test('.env files: comments, quotes, spaces in values', () => {
  assert.deepEqual(parseEnvFile('# c\n\nA=1\nB = "two words"\nC=ens <e@x> # note\nexport D=\'q\'\n'), {
    A: '1',
    B: 'two words',
    C: 'ens <e@x>',
    D: 'q',
  });
  assert.throws(() => parseEnvFile('not a line'), /line 1/);
});

test('ports and volumes in their short and long forms', () => {
  assert.deepEqual(parsePort('127.0.0.1:4002:4001'), [
    { hostIp: '127.0.0.1', hostPort: 4002, containerPort: 4001, protocol: 'tcp' },
  ]);
  assert.deepEqual(
    parsePort('30000-30001:30000-30001/udp').map((p) => `${p.hostPort}:${p.containerPort}/${p.protocol}`),
    ['30000:30000/udp', '30001:30001/udp'],
  );
  assert.deepEqual(parsePort({ target: 8025, published: '8025', protocol: 'tcp' }), [
    { hostIp: null, hostPort: 8025, containerPort: 8025, protocol: 'tcp' },
  ]);
  assert.throws(() => parsePort('1-3:1-2'), /differ in length/);
  assert.throws(() => parsePort('4000'), /is not/);
  assert.deepEqual(parseVolume('data:/data:rw'), { source: 'data', target: '/data', named: true });
  assert.equal(parseVolume('./here:/data').named, false);
});

test('Dockerfile: continuations, comments inside them, stages, COPY forms, WORKDIR', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'FROM node:24-slim AS build',
    'WORKDIR /app',
    'RUN a \\',
    '  # a comment inside',
    '  && b',
    'COPY --chown=node:node ["x y", "z", "./"]',
    'FROM node:24-slim',
    'WORKDIR /app',
    'WORKDIR sub',
    'COPY --from=build /app/dist ./dist',
    'CMD ["node", "dist/main.js"]',
  ].join('\n');
  const stages = parseDockerfile(text);
  assert.deepEqual(
    stages.map((s) => [s.name, s.image, s.instructions.length]),
    [
      ['build', 'node:24-slim', 3],
      [null, 'node:24-slim', 4],
    ],
  );
  const [build, runtime] = stages as [(typeof stages)[0], (typeof stages)[0]];
  assert.equal(build.instructions[1]?.text, 'a && b');
  assert.equal(build.instructions[1]?.line, 4);
  const copy = parseCopy(build.instructions[2] as (typeof build.instructions)[0]);
  assert.deepEqual([copy.from, copy.sources, copy.dest], [null, ['x y', 'z'], './']);
  const fromBuild = parseCopy(runtime.instructions[2] as (typeof runtime.instructions)[0]);
  assert.equal(fromBuild.from, 'build');
  assert.equal(imagePath(runtime, fromBuild.line, fromBuild.dest), '/app/sub/dist');
  assert.equal(imagePath(build, 99, '../etc/./x'), '/etc/x');
  assert.deepEqual(execForm(runtime.instructions[3]?.text ?? ''), ['node', 'dist/main.js']);
  assert.equal(execForm('node main.js'), null);
  assert.throws(() => parseInstructions('FROM a\nRUNN x'), /line 2: unknown instruction/);
  assert.throws(() => parseDockerfile('RUN x'), /before any FROM/);
});

test('the runtime scan follows imports, finds packages and assets, and skips comments', () => {
  const root = mkdtempSync(join(tmpdir(), 'ensemble-scan-'));
  try {
    mkdirSync(join(root, 'dist', 'a'), { recursive: true });
    const write = (path: string, text: string) => writeFileSync(join(root, path), text);
    write(
      'dist/a/main.js',
      [
        "import { x } from './lib.js';",
        "import 'reflect-metadata';",
        "import fs from 'node:fs';",
        '// import gone from "./commented.js";',
        "const later = () => import('../b.js');",
        "export { y } from '@scope/pkg/sub';",
      ].join('\n'),
    );
    write(
      'dist/a/lib.js',
      "export const page = new URL('../../page/', import.meta.url); import './nope.js';",
    );
    write('dist/b.js', "const r = require.resolve('graphql-ws/package.json');");
    const needs = runtimeNeeds(root, ['dist/a/main.js']);
    assert.deepEqual(needs.files, ['dist/a/lib.js', 'dist/a/main.js', 'dist/b.js']);
    assert.deepEqual([...needs.packages.keys()].sort(), ['@scope/pkg', 'graphql-ws', 'reflect-metadata']);
    assert.deepEqual([...needs.assets.keys()], ['page']);
    assert.deepEqual(needs.missing, ['dist/a/lib.js → ./nope.js']);
    assert.equal(packageName('@a/b/c'), '@a/b');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('schemaKeys reads the object under refinements and transforms', () => {
  const schema = z
    .object({ A: z.string(), B: z.string().optional() })
    .superRefine(() => {})
    .transform((c) => c.A);
  assert.deepEqual(schemaKeys(schema), ['A', 'B']);
  assert.throws(() => schemaKeys(z.string()), /not a z.object/);
});
