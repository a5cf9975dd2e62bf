/**
 * A private RabbitMQ from Debian's rabbitmq-server package, for the local stack and for tests: its own
 * ports, its own data under dataDir (durable queues survive a restart on the same dataDir) and its own
 * epmd, so that it neither meets a system RabbitMQ or epmd nor leaves anything running after stop().
 *
 * We run the package's inner sbin/rabbitmq-server: /usr/sbin/rabbitmq-server is a wrapper that
 * switches to the rabbitmq user and its /var/lib/rabbitmq. The inner script execs erl, so the child we
 * spawn is the broker's beam process itself.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import amqp from 'amqplib';
import {
  type ServerProcess,
  startServerProcess,
  stopServerProcess,
  waitUntilReady,
} from './child-process.js';
import { requireDebianPackage } from './debian-packages.js';

export interface RunningRabbitmq {
  /** amqp://guest:guest@127.0.0.1:port (guest may log in from loopback only, which is where we are). */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const packageLib = '/usr/lib/rabbitmq/lib';

/** The package's inner start script, e.g. /usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8/sbin/rabbitmq-server. */
export function findRabbitmqServerScript(): string | undefined {
  if (!existsSync(packageLib)) return undefined;
  const versions = readdirSync(packageLib)
    .filter((name) => name.startsWith('rabbitmq_server-'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = versions.at(-1);
  const script = newest && join(packageLib, newest, 'sbin', 'rabbitmq-server');
  return script && existsSync(script) ? script : undefined;
}

/** The inner start script, installing the package first when we may (see requireDebianPackage). */
export function requireRabbitmqServerScript(onLog?: (line: string) => void): string {
  requireDebianPackage('rabbitmq-server', () => findRabbitmqServerScript() !== undefined, onLog);
  return findRabbitmqServerScript() as string;
}

export async function startRabbitmq(options: {
  dataDir: string;
  port: number;
  /** Erlang distribution port; default port + 20000, as RabbitMQ does. */
  distPort?: number;
  /** Our own epmd's port; default port + 20001, never the system epmd's 4369. */
  epmdPort?: number;
  /** Default ensemble-<port>@localhost. Keep it across restarts: the data is kept per node name. */
  nodeName?: string;
  onLog?: (line: string) => void;
  /** Default 60 s; a start takes about 5 s. */
  readyTimeoutMs?: number;
}): Promise<RunningRabbitmq> {
  const script = requireRabbitmqServerScript(options.onLog);
  const dataDir = resolve(options.dataDir);
  const { port } = options;
  const distPort = options.distPort ?? port + 20000;
  const epmdPort = options.epmdPort ?? port + 20001;
  if (distPort > 65535 || epmdPort > 65535) {
    throw new Error(`RabbitMQ on port ${port}: give distPort and epmdPort (the defaults exceed 65535)`);
  }
  const nodeName = options.nodeName ?? `ensemble-${port}@localhost`;
  const home = join(dataDir, 'home');
  for (const dir of [home, join(dataDir, 'mnesia'), join(dataDir, 'log')])
    mkdirSync(dir, { recursive: true });
  // Files in dataDir instead of /etc/rabbitmq, so the system's settings never apply to our broker.
  const configFile = join(dataDir, 'rabbitmq.conf');
  writeFileSync(configFile, '# Ports and paths come from the environment (launcher/rabbitmq-server.ts).\n');
  const enabledPluginsFile = join(dataDir, 'enabled_plugins');
  writeFileSync(enabledPluginsFile, '[].\n');
  const envFile = join(dataDir, 'rabbitmq-env.conf');
  writeFileSync(envFile, '');

  const epmd = await startEpmd(epmdPort);
  const broker = startServerProcess(script, [], {
    cwd: dataDir,
    onLog: options.onLog,
    env: {
      ...process.env,
      // The Erlang cookie is written to $HOME.
      HOME: home,
      ERL_EPMD_PORT: String(epmdPort),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dataDir, 'log'),
      RABBITMQ_CONFIG_FILE: configFile,
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dataDir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: envFile,
      RABBITMQ_ENABLED_PLUGINS_FILE: enabledPluginsFile,
      RABBITMQ_PID_FILE: join(dataDir, 'rabbitmq.pid'),
    },
  });
  const stopBoth = async () => {
    // epmd after the broker: it refuses to quit while a node is registered.
    await stopServerProcess(broker);
    await stopServerProcess(epmd);
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  try {
    await waitUntilReady(broker, {
      what: `RabbitMQ (${nodeName}, port ${port}, logs in ${join(dataDir, 'log')})`,
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      probe: async () => {
        const connection = await amqp.connect(url, { timeout: 2_000 });
        await connection.close();
      },
    });
  } catch (error) {
    await stopBoth();
    throw error;
  }
  return { url, port, stop: stopBoth };
}

/**
 * epmd as our child on a private port. erl would start one itself (epmd -daemon), but that one is
 * detached and nobody would stop it; with ours already listening, erl uses it.
 */
async function startEpmd(port: number): Promise<ServerProcess> {
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  // With -d -d epmd says when it listens ("entering the main select() loop"), which is our ready event.
  // Its other debug output is hex dumps of each request: kept for the error tail only, not logged.
  const epmd = startServerProcess('epmd', ['-port', String(port), '-address', '127.0.0.1', '-d', '-d'], {
    onLog: (line) => {
      if (line.includes('entering the main select() loop')) listening();
    },
  });
  const exited = epmd.exited.then((code) => {
    throw new Error(`epmd on port ${port} exited (${code}) before it listened:\n${epmd.logTail()}`);
  });
  await Promise.race([ready, exited]);
  exited.catch(() => {});
  return epmd;
}
