/**
 * docker-compose.yml read the way Docker Compose reads it, without Docker: the `.env` file
 * format, `${VAR…}` interpolation, YAML anchors and merge keys (`<<:`), and the short forms of
 * ports, volumes, environment and depends_on. Used by the deployment checks
 * (deploy-files.test.ts); docker-compose itself validates the file there too.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class InterpolationError extends Error {}

/** A `.env` file: KEY=VALUE lines, `#` comments, optional quotes around the value. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${index + 1} is not KEY=VALUE: ${raw}`);
    const [, key = '', value = ''] = m;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    env[key] = quoted ? (quoted[2] ?? '') : value.replace(/\s+#.*$/, '');
  }
  return env;
}

/** One `${…}` or `$NAME` in the file: the variable and how it is used. */
export interface VariableUse {
  readonly name: string;
  /** '' (plain), ':-' / '-' (default), ':?' / '?' (required), ':+' / '+' (alternative). */
  readonly operator: '' | ':-' | '-' | ':?' | '?' | ':+' | '+';
  readonly argument: string;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Every variable a text refers to (`$$` is an escaped dollar, not a variable). */
export function variablesIn(text: string): VariableUse[] {
  const uses: VariableUse[] = [];
  for (const m of text.matchAll(VARIABLE)) {
    if (m[0] === '$$') continue;
    const name = (m[1] ?? m[4]) as string;
    uses.push({ name, operator: (m[2] ?? '') as VariableUse['operator'], argument: m[3] ?? '' });
  }
  return uses;
}

/** Compose's interpolation of one string; a required variable that is missing throws. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(VARIABLE, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (op) {
      case ':-':
        return nonEmpty ? value : (arg ?? '');
      case '-':
        return set ? value : (arg ?? '');
      case ':?':
      case '?':
        if (op === ':?' ? nonEmpty : set) return value as string;
        throw new InterpolationError(`${name}: ${arg || 'is required'}`);
      case ':+':
        return nonEmpty ? (arg ?? '') : '';
      case '+':
        return set ? (arg ?? '') : '';
      default:
        return value ?? '';
    }
  });
}

function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const environment = z
  .union([z.record(z.string(), scalar.nullable()), z.array(z.string())])
  .default({})
  .transform((env) => {
    const entries = Array.isArray(env)
      ? env.map((item) => {
          const i = item.indexOf('=');
          return i < 0 ? [item, null] : [item.slice(0, i), item.slice(i + 1)];
        })
      : Object.entries(env);
    // A variable without a value is taken from the shell running compose: none of ours may be.
    return Object.fromEntries(entries) as Record<string, string | null>;
  });

export interface PortMapping {
  readonly hostIp: string | null;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
}

const portSyntax = z.union([
  z.string(),
  z.looseObject({
    target: z.coerce.number(),
    published: z.coerce.string().optional(),
    host_ip: z.string().optional(),
    protocol: z.enum(['tcp', 'udp']).optional(),
  }),
]);

/**
 * A port, expanded to one mapping per port: the short syntax [ip:]host[-end]:container[-end][/protocol]
 * or the long one ({ target, published, host_ip, protocol }).
 */
export function parsePort(port: z.output<typeof portSyntax>): PortMapping[] {
  const text =
    typeof port === 'string'
      ? port
      : `${port.host_ip ? `${port.host_ip}:` : ''}${port.published ?? port.target}:${port.target}/${port.protocol ?? 'tcp'}`;
  const m = /^(?:(.+):)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(text);
  if (!m) throw new Error(`port "${text}" is not [ip:]host:container[/protocol]`);
  const [, hostIp, hostFrom, hostTo, containerFrom, containerTo, protocol] = m;
  const hosts = range(Number(hostFrom), Number(hostTo ?? hostFrom));
  const containers = range(Number(containerFrom), Number(containerTo ?? containerFrom));
  if (hosts.length !== containers.length) throw new Error(`port "${text}": ranges differ in length`);
  return hosts.map((hostPort, i) => ({
    hostIp: hostIp ?? null,
    hostPort,
    containerPort: containers[i] as number,
    protocol: (protocol ?? 'tcp') as 'tcp' | 'udp',
  }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export interface VolumeMount {
  readonly source: string;
  readonly target: string;
  readonly named: boolean;
}

export function parseVolume(text: string): VolumeMount {
  const [source = '', target = ''] = text.split(':');
  if (!target.startsWith('/')) throw new Error(`volume "${text}" is not source:/target[:mode]`);
  return { source, target, named: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source) };
}

const condition = z.enum(['service_started', 'service_healthy', 'service_completed_successfully']);

const service = z.looseObject({
  image: z.string().optional(),
  build: z
    .union([
      z.string().transform((context) => ({ context, dockerfile: undefined })),
      z.looseObject({ context: z.string(), dockerfile: z.string().optional() }),
    ])
    .optional(),
  pull_policy: z.enum(['always', 'never', 'missing', 'if_not_present', 'build']).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
  environment,
  ports: z
    .array(portSyntax)
    .default([])
    .transform((ports) => ports.flatMap(parsePort)),
  volumes: z
    .array(z.string())
    .default([])
    .transform((volumes) => volumes.map(parseVolume)),
  depends_on: z
    .union([
      z
        .array(z.string())
        .transform((names) => Object.fromEntries(names.map((n) => [n, { condition: undefined }]))),
      z.record(z.string(), z.looseObject({ condition: condition.optional() })),
    ])
    .default({}),
  healthcheck: z
    .looseObject({
      test: z.union([z.string(), z.array(z.string())]),
      interval: z.string().optional(),
      timeout: z.string().optional(),
      retries: z.number().int().positive().optional(),
      start_period: z.string().optional(),
    })
    .optional(),
});

const composeSchema = z.looseObject({
  name: z.string().optional(),
  services: z.record(z.string(), service),
  volumes: z
    .record(z.string(), z.looseObject({}).nullable())
    .default({})
    .transform((v) => Object.keys(v)),
});

export type ComposeFile = z.output<typeof composeSchema>;
export type ComposeService = ComposeFile['services'][string];

/** The YAML of a compose file, with anchors and merge keys resolved but nothing interpolated. */
export function readComposeYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8'), { merge: true, maxAliasCount: 1000 });
}

/** The compose file as Compose sees it once `env` (the `.env` file) is interpolated. */
export function loadComposeFile(path: string, env: Record<string, string | undefined>): ComposeFile {
  return composeSchema.parse(interpolateAll(readComposeYaml(path), env));
}

/** The healthcheck's command as one string, for looking into. */
export function healthcheckText(s: ComposeService): string {
  const test = s.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

/** The command as words (exec form); a string command is split on spaces. */
export function commandWords(s: ComposeService): string[] {
  return typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []);
}
