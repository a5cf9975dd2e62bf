/**
 * What a compiled entry point needs at run time, found statically: the dist files it imports
 * (static and dynamic imports, require and require.resolve), the packages they import, and the
 * files outside dist they read through `new URL('…', import.meta.url)`. The deployment checks
 * hold these against what the image ships (deploy-files.test.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

export interface RuntimeNeeds {
  /** Repository-relative paths of the JS files loaded, entry included. */
  readonly files: string[];
  /** Package names imported, with one file that imports each. */
  readonly packages: Map<string, string>;
  /** Repository-relative paths read through `new URL(…, import.meta.url)`, with the file reading each. */
  readonly assets: Map<string, string>;
  /** Relative imports that point nowhere, as "file → specifier". */
  readonly missing: string[];
}

const SPECIFIERS = [
  /\b(?:import|export)\s[^'";]*?\bfrom\s*(['"])(.+?)\1/g,
  /\bimport\s*(['"])(.+?)\1/g,
  /\bimport\(\s*(['"])(.+?)\1\s*\)/g,
  /\brequire(?:\.resolve)?\(\s*(['"])(.+?)\1\s*\)/g,
];
const ASSET = /\bnew URL\(\s*(['"])(\.{1,2}\/.*?)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Without comments (a string holding `//`, such as a URL, is left alone). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** Everything the entries (repository-relative .js paths) load, transitively. */
export function runtimeNeeds(root: string, entries: string[]): RuntimeNeeds {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const assets = new Map<string, string>();
  const missing: string[] = [];
  const queue = entries.map((e) => resolve(root, e));
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const rel = relative(root, file).split(sep).join('/');
    if (files.has(rel)) continue;
    if (!existsSync(file) || !statSync(file).isFile()) {
      missing.push(rel);
      continue;
    }
    files.add(rel);
    const text = code(readFileSync(file, 'utf8'));
    for (const pattern of SPECIFIERS) {
      for (const m of text.matchAll(pattern)) {
        const spec = m[2] as string;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (existsSync(target) && statSync(target).isFile()) queue.push(target);
          else missing.push(`${rel} → ${spec}`);
        } else if (!isBuiltin(spec)) {
          const name = packageName(spec);
          if (!packages.has(name)) packages.set(name, rel);
        }
      }
    }
    for (const m of text.matchAll(ASSET)) {
      const target = relative(root, resolve(dirname(file), m[2] as string))
        .split(sep)
        .join('/');
      if (!assets.has(target)) assets.set(target, rel);
    }
  }
  return { files: [...files].sort(), packages, assets, missing };
}
