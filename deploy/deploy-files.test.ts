/**
 * The deployment (docker-compose.yml, Dockerfile, .env.example, .dockerignore) checked without a
 * Docker engine: Debian's docker-compose validates the compose file, and the rest is held
 * against the code — every variable compose sets must be one the service's config schema
 * knows and accepts, the URLs and ports the services use to reach each other must agree, and
 * the image must ship every file and package the services load.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { parseConfig } from '../common/config.js';
import { gatewayConfigSchema } from '../gateway/config.js';
import { alertConfigSchema } from '../mailer/config.js';
import { nodeConfigSchema } from '../nodes/config.js';
import { parsePeers } from '../nodes/transport/udp-transport.js';
import {
  type ComposeService,
  commandWords,
  healthcheckText,
  InterpolationError,
  loadComposeFile,
  parseEnvFile,
  parsePort,
  variablesIn,
} from './compose-file.js';
import { execForm, imagePath, parseCopy, parseDockerfile, type Stage } from './dockerfile.js';
import { runtimeNeeds } from './runtime-files.js';
import { schemaKeys } from './schema-keys.js';

// Compiled to dist/deploy/; the deployment files live at the repository's root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const IMAGE = 'ensemble:latest';
/** The config schema each compiled entry point validates its environment with. */
const SCHEMAS: Record<string, { name: string; schema: z.ZodType }> = {
  'dist/nodes/main.js': { name: 'nodeConfigSchema', schema: nodeConfigSchema },
  'dist/gateway/main.js': { name: 'gatewayConfigSchema', schema: gatewayConfigSchema },
  'dist/mailer/main.js': { name: 'alertConfigSchema', schema: alertConfigSchema },
};
/** Services without a healthcheck, and why. */
const NO_HEALTHCHECK: Record<string, string> = { mailer: 'serves no port to probe' };
/**
 * Dependencies a service reaches without waiting for them in depends_on: the nodes announce to
 * the gateway and talk to each other with retries (the gateway itself waits for the nodes).
 */
const REACHED_WITHOUT_WAITING = (from: string, to: string) =>
  entryOf(from) === 'dist/nodes/main.js' && (to === 'gateway' || entryOf(to) === 'dist/nodes/main.js');
/** depends_on without service_healthy although the dependency has a healthcheck, and why. */
const STARTED_IS_ENOUGH = (from: string, to: string) =>
  from === 'gateway' && entryOf(to) === 'dist/nodes/main.js'; // it follows their health itself

const envExample = parseEnvFile(read('.env.example'));
const composeText = read('docker-compose.yml');
const compose = loadComposeFile(join(root, 'docker-compose.yml'), envExample);
const services = compose.services;
const stages = parseDockerfile(read('Dockerfile'));
const buildStage = stages[0] as Stage;
const runtimeStage = stages.at(-1) as Stage;
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function service(name: string): ComposeService {
  const s = services[name];
  assert.ok(s, `docker-compose.yml has no service "${name}"`);
  return s;
}

/** The compiled entry point a service runs (`node dist/….js`), or null for other images. */
function entryOf(name: string): string | null {
  const s = service(name);
  if (s.image !== IMAGE) return null;
  const words = commandWords(s);
  assert.equal(
    words[0],
    'node',
    `${name}: the command must be ["node", "dist/….js"], got ${words.join(' ')}`,
  );
  assert.equal(words.length, 2, `${name}: the command must be ["node", "dist/….js"], got ${words.join(' ')}`);
  return words[1] as string;
}

const ensemble = Object.keys(services).filter((name) => services[name]?.image === IMAGE);
const byEntry = (entry: string) => ensemble.filter((name) => entryOf(name) === entry);

function environment(name: string): Record<string, string> {
  const env = service(name).environment;
  for (const [key, value] of Object.entries(env)) {
    assert.notEqual(value, null, `${name}: ${key} has no value (compose would take it from the shell)`);
  }
  return env as Record<string, string>;
}

function configOf<S extends z.ZodType>(name: string, schema: S): z.output<S> {
  return parseConfig(schema, environment(name));
}

const nodes = byEntry('dist/nodes/main.js');
const gatewayConfig = () => configOf('gateway', gatewayConfigSchema);

/** The source file a dist/….js entry is compiled from. */
const sourceOf = (entry: string) => entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');

/** The service whose name is a URL's host, checked to exist. */
function hostService(url: URL, what: string): string {
  assert.ok(services[url.hostname], `${what} points at "${url.hostname}", which is no compose service`);
  return url.hostname;
}

function publishes(name: string, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp') {
  return service(name).ports.filter((p) => p.containerPort === containerPort && p.protocol === protocol);
}

// --- the compose file ---------------------------------------------------------------------------

test("Debian's docker-compose accepts docker-compose.yml and reads it as these checks do", () => {
  // docker-compose 1.29 (Debian 12) predates the top-level `name`; Compose v2 reads it.
  const withoutName = composeText.replace(/^name:.*$/m, '');
  const run = spawnSync(
    'docker-compose',
    ['--env-file', join(root, '.env.example'), '--project-directory', root, '-f', '-', 'config'],
    // Only the .env file: a variable from the shell running the tests must not hide a missing one.
    {
      cwd: root,
      input: withoutName,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    },
  );
  if (run.error) {
    assert.fail(
      `cannot run docker-compose (${run.error.message}): install Debian's docker-compose package ` +
        '(apt-get install docker-compose; .ci/apt-packages lists it)',
    );
  }
  assert.equal(run.status, 0, `docker-compose config rejected docker-compose.yml:\n${run.stderr}`);
  const resolved = parseYaml(run.stdout) as {
    services: Record<
      string,
      { environment?: Record<string, string>; ports?: Parameters<typeof parsePort>[0][] }
    >;
  };
  assert.deepEqual(Object.keys(resolved.services).sort(), Object.keys(services).sort());
  for (const [name, s] of Object.entries(resolved.services)) {
    const theirs = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(environment(name), theirs, `${name}: environment differs from docker-compose's`);
    assert.deepEqual(
      service(name).ports,
      (s.ports ?? []).flatMap(parsePort),
      `${name}: ports differ from docker-compose's`,
    );
  }
});

test('.env.example sets every variable docker-compose.yml uses, and only those', () => {
  const used = new Set(variablesIn(composeText).map((v) => v.name));
  const missing = [...used].filter((v) => !(v in envExample));
  assert.deepEqual(missing, [], `.env.example does not set ${missing.join(', ')}`);
  const unused = Object.keys(envExample).filter((v) => !used.has(v));
  assert.deepEqual(unused, [], `.env.example sets ${unused.join(', ')}, which docker-compose.yml never uses`);
});

test('secrets have no defaults: compose stops, naming the one not set in .env', () => {
  const secretLike = /PASSWORD|SECRET|TOKEN|_USER$/;
  for (const use of variablesIn(composeText)) {
    if (secretLike.test(use.name)) {
      assert.equal(use.operator, ':?', `\${${use.name}} must be written \${${use.name}:?…} (required)`);
    }
  }
  const required = [
    ...new Set(
      variablesIn(composeText)
        .filter((v) => v.operator === ':?')
        .map((v) => v.name),
    ),
  ];
  assert.ok(required.includes('CLUSTER_SECRET') && required.includes('API_TOKEN'));
  for (const name of required) {
    const { [name]: _, ...without } = envExample;
    assert.throws(
      () => loadComposeFile(join(root, 'docker-compose.yml'), without),
      (error: Error) => error instanceof InterpolationError && error.message.includes(name),
      `compose must refuse to start without ${name}`,
    );
    if (/PASSWORD|SECRET|TOKEN/.test(name)) {
      assert.match(
        envExample[name] ?? '',
        /^change-me/,
        `.env.example: ${name} must be a change-me placeholder`,
      );
    }
  }
});

test('one image, built once from this Dockerfile, runs the nodes, the gateway and the mailer', () => {
  const building = Object.keys(services).filter((name) => service(name).build);
  assert.equal(
    building.length,
    1,
    `exactly one service builds the image (build: .), got ${building.join(', ')}`,
  );
  const builder = service(building[0] as string);
  assert.equal(builder.image, IMAGE);
  assert.equal(posix.normalize(builder.build?.context ?? ''), '.');
  assert.ok(['Dockerfile', undefined].includes(builder.build?.dockerfile as string | undefined));
  assert.equal(builder.pull_policy, 'build', `${building[0]}: pull_policy: build (never pull ${IMAGE})`);
  for (const name of ensemble.filter((n) => n !== building[0])) {
    assert.equal(service(name).pull_policy, 'never', `${name}: pull_policy: never (${IMAGE} is built here)`);
  }
  assert.deepEqual(
    ensemble.map(entryOf).sort(),
    ['dist/gateway/main.js', 'dist/mailer/main.js', ...nodes.map(() => 'dist/nodes/main.js')].sort(),
  );
  assert.ok(nodes.length >= 3, 'at least three nodes');
  for (const [name, s] of Object.entries(services)) {
    if (s.image === IMAGE) continue;
    assert.match(s.image ?? '', /^[^:]+(\/[^:]+)*:[\w.-]+$/, `${name}: name the image's tag`);
    assert.ok(!s.build, `${name}: only the ensemble image is built`);
  }
});

test("every ensemble service's environment is one its config schema knows and accepts", () => {
  for (const name of ensemble) {
    const entry = entryOf(name) as string;
    const schema = SCHEMAS[entry];
    assert.ok(schema, `${name}: no config schema known for ${entry}; add it to SCHEMAS`);
    assert.ok(
      existsSync(join(root, sourceOf(entry))),
      `${name}: ${entry} is built from no ${sourceOf(entry)}`,
    );
    assert.ok(existsSync(join(root, entry)), `${name}: ${entry} is not built by tsc -p tsconfig.json`);
    assert.ok(read(sourceOf(entry)).includes(schema.name), `${sourceOf(entry)} does not use ${schema.name}`);
    const known = new Set(schemaKeys(schema.schema));
    const unknown = Object.keys(environment(name)).filter((key) => !known.has(key));
    assert.deepEqual(unknown, [], `${name}: ${schema.name} does not know ${unknown.join(', ')}`);
    assert.doesNotThrow(() => configOf(name, schema.schema), `${name}: its environment is rejected`);
  }
});

test('the nodes, their peers and the gateway agree on ids, URLs, ports and secrets', () => {
  const gw = gatewayConfig();
  const configs = nodes.map((name) => ({ name, config: configOf(name, nodeConfigSchema) }));
  const ids = configs.map((n) => n.config.nodeId);
  assert.equal(new Set(ids).size, ids.length, `node ids must differ: ${ids.join(', ')}`);
  for (const { name, config } of configs) {
    const peers = parsePeers(environment(name).PEERS ?? '');
    assert.deepEqual(
      peers.map((p) => `${p.id}@${p.host}:${p.port}`).sort(),
      configs.map((n) => `${n.config.nodeId}@${n.name}:${n.config.udpPort}`).sort(),
      `${name}: PEERS must list every node as id@service:UDP_PORT`,
    );
    assert.equal(hostService(new URL(config.nodeUrl), `${name}'s NODE_URL`), name);
    assert.equal(config.bindHost, '0.0.0.0', `${name}: must listen beyond its container`);
    assert.equal(config.gatewayUrl, gw.gatewayUrl, `${name}: announces to GATEWAY_URL ${config.gatewayUrl}`);
    assert.equal(
      config.clusterSecret,
      gw.clusterSecret,
      `${name}: CLUSTER_SECRET differs from the gateway's`,
    );
    assert.equal(config.clusterId, gw.clusterId, `${name}: CLUSTER_ID differs from the gateway's`);
    assert.equal(config.apiToken, gw.apiToken, `${name}: API_TOKEN differs from the gateway's`);
    assert.ok(
      publishes(name, config.httpPort).length === 1,
      `${name}: publish its HTTP port ${config.httpPort}`,
    );
    assert.ok(
      healthcheckText(service(name)).includes(`127.0.0.1:${config.httpPort}/healthz`),
      `${name}: the healthcheck must probe /healthz on ${config.httpPort}`,
    );
  }
  assert.deepEqual(
    [...gw.nodeUrls].sort(),
    configs.map((n) => n.config.nodeUrl).sort(),
    "the gateway's NODE_URLS must be the nodes' NODE_URLs",
  );
  assert.equal(hostService(new URL(gw.gatewayUrl), "the gateway's GATEWAY_URL"), 'gateway');
  assert.equal(gw.bindHost, '0.0.0.0');
  assert.equal(publishes('gateway', gw.httpPort).length, 1, `gateway: publish its HTTP port ${gw.httpPort}`);
  assert.ok(healthcheckText(service('gateway')).includes(`127.0.0.1:${gw.httpPort}/healthz`));
});

test('the gateway reaches RabbitMQ and FTP, the mailer the gateway and mailpit, the nodes PostgreSQL', () => {
  const gw = gatewayConfig();
  assert.ok(gw.rabbitmqUrl && gw.ftpUrl, 'the gateway needs RABBITMQ_URL and FTP_URL');

  const amqp = new URL(gw.rabbitmqUrl);
  const rabbit = environment(hostService(amqp, 'RABBITMQ_URL'));
  assert.match(service(amqp.hostname).image ?? '', /^rabbitmq:/);
  assert.equal(amqp.port || '5672', '5672');
  assert.equal(decodeURIComponent(amqp.username), rabbit.RABBITMQ_DEFAULT_USER, 'RabbitMQ user');
  assert.equal(decodeURIComponent(amqp.password), rabbit.RABBITMQ_DEFAULT_PASS, 'RabbitMQ password');

  const ftpUrl = new URL(gw.ftpUrl);
  const ftpName = hostService(ftpUrl, 'FTP_URL');
  const ftp = environment(ftpName);
  assert.match(service(ftpName).image ?? '', /^stilliard\/pure-ftpd:/);
  assert.equal(ftpUrl.port || '21', '21');
  assert.equal(decodeURIComponent(ftpUrl.username), ftp.FTP_USER_NAME, 'FTP user');
  assert.equal(decodeURIComponent(ftpUrl.password), ftp.FTP_USER_PASS, 'FTP password');
  const listings = posix.dirname(gw.ftpPath);
  assert.ok(
    commandWords(service(ftpName)).join(' ').includes(`mkdir -p "$FTP_USER_HOME${listings}"`),
    `ftp: the user's home must have ${listings}, where the gateway polls ${gw.ftpPath}`,
  );
  const [low, high] = (ftp.FTP_PASSIVE_PORTS ?? '').split(':').map(Number);
  assert.ok(low && high && low <= high, 'ftp: FTP_PASSIVE_PORTS is low:high');
  for (let port = low; port <= high; port++) {
    assert.deepEqual(
      publishes(ftpName, port).map((p) => p.hostPort),
      [port],
      `ftp: passive port ${port} must be published as itself`,
    );
  }

  const mailer = configOf('mailer', alertConfigSchema);
  assert.equal(mailer.gatewayUrl, gw.gatewayUrl, "the mailer follows the gateway's GATEWAY_URL");
  const smtpHost = mailer.smtp.transport.host as string;
  assert.match(service(smtpHost).image ?? '', /^axllent\/mailpit:/, 'SMTP_URL points at mailpit');
  assert.equal(mailer.smtp.transport.port, 1025, "mailpit's SMTP port");

  const pg = environment('postgres');
  for (const name of nodes) {
    const db = new URL(configOf(name, nodeConfigSchema).databaseUrl);
    assert.equal(hostService(db, `${name}'s DATABASE_URL`), 'postgres');
    assert.equal(db.port || '5432', '5432');
    assert.equal(decodeURIComponent(db.username), pg.POSTGRES_USER, `${name}: PostgreSQL user`);
    assert.equal(decodeURIComponent(db.password), pg.POSTGRES_PASSWORD, `${name}: PostgreSQL password`);
    assert.equal(db.pathname, `/${pg.POSTGRES_DB}`, `${name}: PostgreSQL database`);
  }
});

test('services wait, in depends_on, for what they reach; healthy where there is a healthcheck', () => {
  for (const [name, s] of Object.entries(services)) {
    const reaches = new Set<string>();
    for (const value of Object.values(environment(name))) {
      for (const m of value.matchAll(/(?:[a-z][a-z0-9+.-]*:\/\/(?:[^@\s/,]*@)?|@)([A-Za-z0-9_.-]+):\d+/g)) {
        const host = m[1] as string;
        if (services[host] && host !== name) reaches.add(host);
      }
    }
    for (const dependency of reaches) {
      if (REACHED_WITHOUT_WAITING(name, dependency)) continue;
      assert.ok(s.depends_on[dependency], `${name} reaches ${dependency}: list it in depends_on`);
    }
    for (const [dependency, { condition }] of Object.entries(s.depends_on)) {
      const target = service(dependency);
      const wanted =
        target.healthcheck && !STARTED_IS_ENOUGH(name, dependency) ? 'service_healthy' : undefined;
      assert.ok(condition, `${name} → ${dependency}: give depends_on a condition`);
      if (wanted) assert.equal(condition, wanted, `${name} → ${dependency}: wait until it is healthy`);
    }
  }
});

test('every service restarts, and has a healthcheck unless it serves nothing', () => {
  for (const [name, s] of Object.entries(services)) {
    assert.ok(
      ['unless-stopped', 'always', 'on-failure'].includes(s.restart ?? ''),
      `${name}: restart policy`,
    );
    if (NO_HEALTHCHECK[name]) {
      assert.ok(!s.healthcheck, `${name} has a healthcheck now: drop it from NO_HEALTHCHECK`);
      continue;
    }
    assert.ok(s.healthcheck, `${name}: add a healthcheck`);
    if (s.image === IMAGE) {
      // node:24-slim has no curl or wget.
      assert.match(healthcheckText(s), /^CMD node -e /, `${name}: probe with node -e "fetch(…)"`);
    }
  }
});

test('state lives in named volumes: one per service, at each data folder', () => {
  const mounted = new Map<string, string>();
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes) {
      assert.ok(v.named, `${name}: ${v.source} must be a named volume`);
      assert.ok(compose.volumes.includes(v.source), `${name}: declare volume ${v.source} under volumes:`);
      assert.ok(!mounted.has(v.source), `${v.source} is shared by ${mounted.get(v.source)} and ${name}`);
      mounted.set(v.source, name);
    }
  }
  assert.deepEqual(
    compose.volumes.filter((v) => !mounted.has(v)),
    [],
    'every declared volume is used',
  );
  const dataDirs: Record<string, string> = {
    postgres: '/var/lib/postgresql/data',
    rabbitmq: '/var/lib/rabbitmq',
    ftp: '/home/ftpusers',
    mailpit: posix.dirname(environment('mailpit').MP_DATABASE ?? '/'),
  };
  for (const name of ensemble) {
    const dir = environment(name).DATA_DIR;
    assert.ok(dir, `${name}: set DATA_DIR to a volume`);
    dataDirs[name] = dir;
  }
  for (const [name, dir] of Object.entries(dataDirs)) {
    assert.ok(
      service(name).volumes.some((v) => v.target === dir),
      `${name}: mount a named volume at ${dir}`,
    );
  }
});

test('published ports: distinct, on PUBLISH_ADDRESS, and the ones the scraper and people use', () => {
  const seen = new Map<string, string>();
  for (const [name, s] of Object.entries(services)) {
    for (const p of s.ports) {
      const key = `${p.hostPort}/${p.protocol}`;
      assert.ok(!seen.has(key), `host port ${key} is published by ${seen.get(key)} and ${name}`);
      seen.set(key, name);
      assert.equal(p.hostIp, envExample.PUBLISH_ADDRESS, `${name}: publish on \${PUBLISH_ADDRESS}`);
    }
  }
  // docs/deploy.md: the scraper on the host uses AMQP on 5672 and FTP on 21.
  const expected: [string, number, number][] = [
    ['gateway', 4000, 4000],
    ['rabbitmq', 5672, 5672],
    ['ftp', 21, 21],
    ['mailpit', 8025, 8025],
  ];
  for (const [name, host, container] of expected) {
    assert.deepEqual(
      publishes(name, container).map((p) => p.hostPort),
      [host],
      `${name}: publish ${container} on ${host}`,
    );
  }
});

// --- the Dockerfile ------------------------------------------------------------------------------

const copies = (stage: Stage) =>
  stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD').map(parseCopy);
const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN');
const contextPath = (source: string) => posix.normalize(source).replace(/\/$/, '');

/** .dockerignore's patterns, applied as `docker build` does (later lines win, ! re-includes). */
function dockerIgnored(path: string): boolean {
  let ignored = false;
  for (const raw of read('.dockerignore').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const glob = posix.normalize(line.slice(negate ? 1 : 0)).replace(/^\/|\/$/g, '');
    const re = new RegExp(
      `^${glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}(/.*)?$`,
    );
    if (re.test(path)) ignored = !negate;
  }
  return ignored;
}

test('the Dockerfile is multi-stage on one pinned Node image, the major version package.json wants', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  const major = /(\d+)/.exec(pkg.engines.node)?.[1];
  for (const stage of stages) {
    assert.match(stage.image, new RegExp(`^node:${major}(\\.[\\d.]+)?-slim$`), `FROM ${stage.image}`);
  }
  assert.ok(buildStage.name, 'name the build stage (FROM … AS build)');
});

test("every COPY source exists and is in the build context (.dockerignore doesn't drop it)", () => {
  for (const required of ['node_modules', 'dist', '.env', '.data']) {
    assert.ok(dockerIgnored(required), `.dockerignore must leave out ${required}`);
  }
  for (const stage of stages) {
    for (const copy of copies(stage).filter((c) => c.from === null)) {
      for (const source of copy.sources) {
        assert.ok(existsSync(join(root, source)), `line ${copy.line}: COPY ${source}: no such file`);
        assert.ok(
          !dockerIgnored(contextPath(source)),
          `line ${copy.line}: .dockerignore leaves out ${source}`,
        );
      }
    }
  }
});

test("the build stage copies every folder of tsconfig.json's include, then compiles", () => {
  const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
  const copied = copies(buildStage).filter((c) => c.from === null);
  const tsc = runs(buildStage).find((r) => /\btsc -p tsconfig\.json\b/.test(r.text));
  const npmCi = runs(buildStage).find((r) => /\bnpm ci\b/.test(r.text));
  assert.ok(tsc, 'RUN … tsc -p tsconfig.json');
  assert.ok(npmCi && npmCi.line < tsc.line, 'RUN npm ci before tsc');
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', ...tsconfig.include]) {
    const copy = copied.find((c) => c.sources.some((s) => contextPath(s) === path));
    assert.ok(copy, `the build stage must COPY ${path}`);
    assert.ok(copy.line < tsc.line, `COPY ${path} before tsc`);
    const dest =
      copy.sources.length > 1 || copy.dest.endsWith('/')
        ? `${imagePath(buildStage, copy.line, copy.dest)}/${posix.basename(path)}`
        : imagePath(buildStage, copy.line, copy.dest);
    assert.equal(dest, imagePath(buildStage, tsc.line, path), `COPY ${path} to where tsc looks for it`);
  }
});

test('the runtime stage: production dependencies only, compiled code, non-root', () => {
  const text = runs(runtimeStage).map((r) => r.text);
  assert.ok(
    text.some((t) => /\bnpm ci\b.*--omit=dev/.test(t)),
    'RUN npm ci --omit=dev',
  );
  assert.ok(!text.some((t) => /\bnpm (install|i)\b/.test(t)), 'npm ci, never npm install');
  const fromOthers = copies(runtimeStage).filter((c) => c.from !== null);
  assert.ok(
    !fromOthers.some((c) => c.sources.some((s) => s.includes('node_modules'))),
    'node_modules of the build stage (dev dependencies) must not be copied',
  );
  const workdir = imagePath(runtimeStage, Number.MAX_SAFE_INTEGER, '.');
  assert.equal(workdir, imagePath(buildStage, Number.MAX_SAFE_INTEGER, '.'), 'one WORKDIR in both stages');
  assert.ok(
    fromOthers.some(
      (c) =>
        c.from === buildStage.name &&
        c.sources.some((s) => imagePath(buildStage, Number.MAX_SAFE_INTEGER, s) === `${workdir}/dist`) &&
        imagePath(runtimeStage, c.line, c.dest) === `${workdir}/dist`,
    ),
    `COPY --from=${buildStage.name} ${workdir}/dist ./dist`,
  );
  const users = runtimeStage.instructions.filter((i) => i.keyword === 'USER');
  const user = users.at(-1);
  assert.ok(user, 'the runtime stage sets USER');
  assert.ok(!/^(root|0)(:|$)/.test(user.text), `USER ${user.text} is root`);
  const last = runtimeStage.instructions.filter((i) => ['RUN', 'COPY', 'ADD'].includes(i.keyword)).at(-1);
  assert.ok(last && last.line < user.line, 'USER after the last RUN/COPY');
  const cmd = runtimeStage.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  const words = cmd && execForm(cmd.text);
  assert.ok(words && words[0] === 'node' && SCHEMAS[words[1] ?? ''], 'CMD ["node", "dist/….js"] (exec form)');
});

test('the image exposes the ports the services listen on', () => {
  const exposed = runtimeStage.instructions
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.text.split(' '))
    .map((p) => (p.includes('/') ? p : `${p}/tcp`));
  const wanted = new Set<string>();
  for (const name of nodes) {
    const c = configOf(name, nodeConfigSchema);
    wanted.add(`${c.httpPort}/tcp`).add(`${c.udpPort}/udp`);
  }
  wanted.add(`${gatewayConfig().httpPort}/tcp`);
  for (const port of wanted) assert.ok(exposed.includes(port), `EXPOSE ${port}`);
});

test('the image ships every file and production package the services load', () => {
  // What the build stage deletes from dist after compiling (find dist -name … -delete, rm -rf dist/…).
  const build = runs(buildStage).map((r) => r.text);
  const deletedNames = build.flatMap((t) =>
    [...t.matchAll(/find dist -name '([^']+)' -delete/g)].map(
      (m) => new RegExp(`^${(m[1] as string).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`),
    ),
  );
  const deletedDirs = build.flatMap((t) =>
    [...t.matchAll(/rm -rf((?:\s+dist\/\S+)+)/g)].flatMap((m) => (m[1] as string).trim().split(/\s+/)),
  );
  const shipped = (file: string) =>
    file.startsWith('dist/') &&
    !deletedNames.some((re) => re.test(posix.basename(file))) &&
    !deletedDirs.some((dir) => file === dir || file.startsWith(`${dir}/`));

  const cmd = execForm(runtimeStage.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.text ?? '[]');
  const entries = [...new Set([...ensemble.map((n) => entryOf(n) as string), ...(cmd?.slice(1, 2) ?? [])])];
  const needs = runtimeNeeds(root, entries);
  assert.deepEqual(needs.missing, [], 'imports of files that do not exist (run the build first)');
  assert.ok(needs.files.length > 50, `only ${needs.files.length} files found: is the import scan broken?`);
  for (const file of needs.files) {
    assert.ok(shipped(file), `${file} is loaded at run time but the image does not ship it`);
    assert.ok(
      existsSync(join(root, sourceOf(file))),
      `${file} is compiled from no ${sourceOf(file)} (stale dist?)`,
    );
  }
  for (const [name, importer] of needs.packages) {
    const where = pkg.devDependencies[name] ? 'devDependencies (not in the image)' : 'no dependency list';
    assert.ok(
      pkg.dependencies[name],
      `${importer} imports ${name}, which is in ${where}: add it to dependencies`,
    );
  }
  // Files read from the source tree at run time, such as the gateway's page, are copied as they lie.
  assert.ok(
    needs.assets.has('gateway/page'),
    'the scan finds the gateway page (gateway/http/page-routes.js)',
  );
  const workdir = imagePath(runtimeStage, Number.MAX_SAFE_INTEGER, '.');
  for (const [asset, reader] of needs.assets) {
    assert.ok(existsSync(join(root, asset)), `${reader} reads ${asset}, which does not exist`);
    const copied = copies(runtimeStage).some(
      (c) =>
        c.from === null &&
        c.sources.some((s) => {
          const source = contextPath(s);
          return (
            (asset === source || asset.startsWith(`${source}/`)) &&
            imagePath(runtimeStage, c.line, c.dest) === `${workdir}/${source}`
          );
        }),
    );
    assert.ok(copied, `${reader} reads ${asset}: the runtime stage must COPY ${asset} ./${asset}`);
  }
});

test('every ensemble service sends its traces to the Jaeger of this file, over OTLP/HTTP', () => {
  for (const name of ensemble) {
    const endpoint = environment(name).OTEL_EXPORTER_OTLP_ENDPOINT;
    assert.ok(endpoint, `${name}: set OTEL_EXPORTER_OTLP_ENDPOINT`);
    const url = new URL(endpoint);
    const jaeger = hostService(url, `${name}'s OTEL_EXPORTER_OTLP_ENDPOINT`);
    assert.match(service(jaeger).image ?? '', /^jaegertracing\/all-in-one:/);
    assert.equal(url.port, '4318', `${name}: OTLP/HTTP is port 4318`);
  }
});
