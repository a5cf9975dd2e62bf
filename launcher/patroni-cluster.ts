/**
 * PostgreSQL behind a real failover manager, for the local stack (ENSEMBLE_DATABASE=patroni) and
 * for tests: two Patroni members (Debian's `patroni` 3.0 running `postgresql-15`) in synchronous
 * mode on a private three-member etcd (launcher/etcd-cluster.ts), on loopback ports of our own and
 * data under dataDir, run as children of this process. It can switch the primary over, kill the
 * primary's host (Patroni and every PostgreSQL process at once, kill -9) and bring a member back,
 * and reports who is primary through Patroni's REST API. Debian's patroni.service is not used.
 *
 * PostgreSQL refuses to run as root: as root, Patroni (and so PostgreSQL) runs as the `postgres`
 * user the postgresql package creates, and its directories belong to that user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { descendantProcesses, isRunning, type ServerProcess, startServerProcess } from './child-process.js';
import { requireDebianPackage } from './debian-packages.js';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster.js';

const patroniBinary = '/usr/bin/patroni';
const postgresBinDir = '/usr/lib/postgresql/15/bin';

/** Patroni's timing (seconds); Patroni requires loopWait + 2 × retryTimeout ≤ ttl. */
export interface PatroniTiming {
  /** How long the leader key lives without a refresh: a dead primary is replaced after at most this. */
  readonly ttl: number;
  /** The pause between two runs of Patroni's loop (each refreshes the leader key). */
  readonly loopWait: number;
  /** How long an etcd or PostgreSQL call may fail before the primary demotes itself. */
  readonly retryTimeout: number;
}

/**
 * Small enough that a dead primary is replaced within seconds, not Patroni's default 30 s; with
 * 3 s of retries, a loaded machine (tests share two cores) does not make a healthy primary give up.
 */
export const defaultPatroniTiming: PatroniTiming = { ttl: 8, loopWait: 1, retryTimeout: 3 };

export interface PatroniClusterOptions {
  /** dataDir/<member> holds each member's Patroni config and PostgreSQL data; dataDir/etcd the etcd's. */
  readonly dataDir: string;
  /**
   * Ten ports from here: PostgreSQL of member i on basePort + i, its Patroni REST API on
   * basePort + 2 + i, and etcd's client and peer ports from basePort + 4 (see EtcdClusterOptions).
   */
  readonly basePort: number;
  /** The database to create for the application. */
  readonly database: string;
  /** The superuser's password; the URL logs in as `postgres`. Default "ensemble". */
  readonly password?: string;
  readonly timing?: PatroniTiming;
  /** Extra PostgreSQL settings for both members (tests turn fsync off: a kill -9 loses no page cache). */
  readonly postgresParameters?: Record<string, string | number>;
  readonly onLog?: (who: string, line: string) => void;
  /** Default 120 s: the primary's initdb, then the standby's base backup. */
  readonly readyTimeoutMs?: number;
}

export interface PatroniMember {
  readonly name: string;
  /** `leader` is the primary; `sync_standby` the standby every commit waits for. */
  readonly role: 'leader' | 'sync_standby' | 'replica' | string;
  /** `running` or `streaming` once up; `stopped`, `starting`, `creating replica`… otherwise. */
  readonly state: string;
  readonly host: string;
  readonly port: number;
  readonly timeline?: number;
}

export interface PatroniCluster {
  /** libpq's multi-host form: postgres://postgres:pw@127.0.0.1:p1,127.0.0.1:p2/db?target_session_attrs=read-write */
  readonly url: string;
  /** One URL per member, straight to its PostgreSQL. */
  readonly memberUrls: Readonly<Record<string, string>>;
  readonly names: readonly string[];
  /** Where the members' and etcd's data live (the absolute dataDir given). */
  readonly dataDir: string;
  readonly etcd: EtcdCluster;
  readonly timing: PatroniTiming;
  /** The members as Patroni's REST API (/cluster) describes them. */
  members(): Promise<PatroniMember[]>;
  /** The primary's name, or undefined while there is none (a failover under way). */
  primary(): Promise<string | undefined>;
  /**
   * Poll until a primary runs (other than `not`) and, unless `standbys` is false, every other
   * running member is its sync standby on its timeline.
   */
  waitForPrimary(options?: { not?: string; standbys?: boolean; timeoutMs?: number }): Promise<string>;
  /** Poll members() until the predicate holds. */
  waitFor(
    what: string,
    predicate: (members: PatroniMember[]) => boolean,
    timeoutMs?: number,
  ): Promise<PatroniMember[]>;
  /**
   * A planned switchover (Patroni's POST /switchover) to the sync standby; resolves with the new
   * primary once it runs (the old one then rejoins as its standby: waitForPrimary()).
   */
  switchover(): Promise<string>;
  /**
   * kill -9 the primary's Patroni and all its PostgreSQL processes at once, as when its host dies;
   * resolves with its name once they are gone. The standby is promoted when the leader key expires.
   */
  killPrimaryHost(): Promise<string>;
  /** Start a killed or stopped member again on its data; it rejoins as a standby (pg_rewind if needed). */
  startMember(name: string): Promise<void>;
  /** Stop one member's Patroni cleanly (it stops its PostgreSQL). */
  stopMember(name: string): Promise<void>;
  /** The members whose Patroni runs. */
  running(): string[];
  /** Stop everything: Patroni and PostgreSQL, then etcd. Nothing keeps running. */
  stop(): Promise<void>;
}

export function validatePatroniTiming({ ttl, loopWait, retryTimeout }: PatroniTiming): void {
  for (const [name, value] of Object.entries({ ttl, loopWait, retryTimeout })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`Patroni ${name} must be a whole number of seconds ≥ 1 (got ${value})`);
    }
  }
  if (loopWait + 2 * retryTimeout > ttl) {
    throw new Error(
      `Patroni needs loopWait + 2 × retryTimeout ≤ ttl: ${loopWait} + 2 × ${retryTimeout} > ${ttl} (raise ttl to ${loopWait + 2 * retryTimeout})`,
    );
  }
}

/** The uid and gid of the `postgres` user when we are root; undefined when we are that user already. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      'PostgreSQL may not run as root and there is no `postgres` user (postgresql-15 creates it)',
    );
  }
}

export function requirePatroni(onLog?: (line: string) => void): void {
  requireDebianPackage('postgresql-15', () => existsSync(join(postgresBinDir, 'postgres')), onLog);
  requireDebianPackage('patroni', () => existsSync(patroniBinary), onLog);
}

export async function startPatroniCluster(options: PatroniClusterOptions): Promise<PatroniCluster> {
  const timing = options.timing ?? defaultPatroniTiming;
  validatePatroniTiming(timing);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.database)) {
    throw new Error(`database name "${options.database}" must be letters, digits and _`);
  }
  const password = options.password ?? 'ensemble';
  const log = (who: string) => (line: string) => options.onLog?.(who, line);
  requirePatroni(log('patroni'));
  const user = postgresUser();
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // The postgres user must be able to reach its directories below ours.
  if (user) {
    chmodSync(dataDir, 0o755);
    if (spawnSync('test', ['-x', dataDir], { ...user }).status !== 0) {
      throw new Error(
        `PostgreSQL runs as the postgres user, which cannot reach ${dataDir}: let others enter its parent folders (chmod o+x)`,
      );
    }
  }

  const { basePort } = options;
  const etcd = await startEtcdCluster({
    dataDir: join(dataDir, 'etcd'),
    basePort: basePort + 4,
    onLog: (member, line) => options.onLog?.(member, line),
  });

  const names = ['pg1', 'pg2'];
  const members = names.map((name, i) => ({
    name,
    port: basePort + i,
    restUrl: `http://127.0.0.1:${basePort + 2 + i}`,
    dir: join(dataDir, name),
  }));
  const configFiles = new Map<string, string>();
  for (const [i, m] of members.entries()) {
    mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    const file = join(m.dir, 'patroni.yml');
    writeFileSync(
      file,
      `# Written by launcher/patroni-cluster.ts on every start.\n${stringify(
        patroniConfig({
          scope: `ensemble-${basePort}`,
          name: m.name,
          dir: m.dir,
          port: m.port,
          restPort: basePort + 2 + i,
          etcdHosts: etcd.members.map((e) => `127.0.0.1:${e.clientPort}`),
          password,
          timing,
          parameters: options.postgresParameters ?? {},
        }),
      )}`,
      { mode: 0o600 },
    );
    if (user) chownRecursive(m.dir, user);
    configFiles.set(m.name, file);
  }

  const processes = new Map<string, ServerProcess>();
  const member = (name: string) => {
    const found = members.find((m) => m.name === name);
    if (!found) throw new Error(`no Patroni member "${name}" (members: ${names.join(', ')})`);
    return found;
  };
  const launch = (name: string) => {
    const m = member(name);
    if (processes.has(name)) throw new Error(`Patroni member ${name} is already running`);
    const server = startServerProcess(patroniBinary, [configFiles.get(name) as string], {
      cwd: m.dir,
      user,
      env: patroniEnvironment(m.dir),
      onLog: log(name),
    });
    processes.set(name, server);
    void server.exited.then(() => {
      if (processes.get(name) === server) processes.delete(name);
    });
  };

  const members_ = async (): Promise<PatroniMember[]> => {
    let lastError: unknown;
    // Any member's API describes the whole cluster (from etcd); ask the running ones in turn.
    for (const m of members.filter((m) => processes.has(m.name))) {
      try {
        const response = await fetch(`${m.restUrl}/cluster`, { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json()) as { members?: PatroniMember[] };
        return body.members ?? [];
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no Patroni member answers: ${(lastError as Error | undefined)?.message ?? 'none runs'}`);
  };
  const primaryOf = (list: PatroniMember[]) =>
    list.find((m) => m.role === 'leader' && m.state === 'running')?.name;

  const waitFor = async (
    what: string,
    predicate: (list: PatroniMember[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<PatroniMember[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: PatroniMember[] | string = [];
    for (;;) {
      for (const [name, server] of processes) {
        // A Patroni that exits by itself (a bad config, say) will not come right: say why at once.
        if (server.hasExited()) throw new Error(`Patroni ${name} exited:\n${server.logTail()}`);
      }
      try {
        const list = await members_();
        if (predicate(list)) return list;
        last = list;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `Patroni: no ${what} within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}${[...processes]
            .map(([name, p]) => `\n--- ${name}:\n${p.logTail()}`)
            .join('')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** A member's `postgres` database as the superuser (there from the start, unlike the app's). */
  const memberUrl = (name: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${member(name).port}/postgres`;

  const waitForPrimary = async ({
    not,
    standbys = true,
    timeoutMs = 60_000,
  }: {
    not?: string;
    standbys?: boolean;
    timeoutMs?: number;
  } = {}) => {
    const list = await waitFor(
      `primary${not ? ` other than ${not}` : ''}${standbys ? ' with its sync standby' : ''}`,
      (list) => {
        const primary = primaryOf(list);
        if (!primary || primary === not) return false;
        const leader = list.find((m) => m.name === primary);
        if (!standbys) return true;
        return [...processes.keys()].every((name) => {
          const seen = list.find((m) => m.name === name);
          if (!seen) return false;
          if (name === primary) return true;
          return (
            ['running', 'streaming'].includes(seen.state) &&
            seen.role === 'sync_standby' &&
            seen.timeline === leader?.timeline
          );
        });
      },
      timeoutMs,
    );
    const primary = primaryOf(list) as string;
    // Patroni calls a member the running leader as soon as it has asked PostgreSQL to promote;
    // the promotion ends a moment later: until then the server still refuses writes.
    const deadline = Date.now() + timeoutMs;
    while (!(await writable(memberUrl(primary)))) {
      if (Date.now() >= deadline)
        throw new Error(`Patroni: ${primary} leads but is not writable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return primary;
  };

  /**
   * A member's Patroni and every PostgreSQL process of it. Patroni starts the postmaster detached
   * (its parent is init, not Patroni), so the postmaster is found by its data directory's pid file.
   */
  const hostProcesses = (name: string): number[] => {
    const patroni = processes.get(name)?.child.pid;
    const postmaster = postmasterOf(join(member(name).dir, 'data'));
    return [patroni, postmaster]
      .filter((pid) => pid !== undefined)
      .flatMap((pid) => [pid, ...descendantProcesses(pid).map((p) => p.pid)]);
  };

  const stopMember = async (name: string) => {
    member(name);
    const server = processes.get(name);
    if (!server) return;
    // Patroni stops its PostgreSQL before it exits; whatever is left after 30 s is killed.
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => killAll(hostProcesses(name)), 30_000);
    // (The postmaster inherits Patroni's output pipes: Patroni counts as exited once both are gone.)
    await server.exited;
    clearTimeout(timer);
  };

  // Standbys first: a primary stopped first would hand over to its standby (which would promote
  // itself only to be stopped too), and one stopped alongside waits for its standby to catch up.
  const stop = async () => {
    const primary = await members_()
      .then(primaryOf)
      .catch(() => undefined);
    await Promise.all([...processes.keys()].filter((name) => name !== primary).map(stopMember));
    if (primary) await stopMember(primary);
    await etcd.stop();
  };

  try {
    for (const { name } of members) launch(name);
    const timeoutMs = options.readyTimeoutMs ?? 120_000;
    const primary = await waitForPrimary({ timeoutMs });
    await createDatabase(memberUrl(primary), options.database);
  } catch (error) {
    await stop();
    throw error;
  }

  const hosts = members.map((m) => `127.0.0.1:${m.port}`).join(',');
  const credentials = `postgres:${encodeURIComponent(password)}`;
  return {
    url: `postgres://${credentials}@${hosts}/${options.database}?target_session_attrs=read-write`,
    memberUrls: Object.fromEntries(
      members.map((m) => [m.name, `postgres://${credentials}@127.0.0.1:${m.port}/${options.database}`]),
    ),
    names,
    dataDir,
    etcd,
    timing,
    members: members_,
    primary: async () => primaryOf(await members_()),
    waitForPrimary,
    waitFor,
    async switchover() {
      const from = await waitForPrimary();
      const api = member(from).restUrl;
      // Patroni answers once the new primary holds the leader key (it polls for up to 10 s).
      const response = await fetch(`${api}/switchover`, {
        method: 'POST',
        body: JSON.stringify({ leader: from }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`Patroni switchover from ${from}: ${response.status} ${text}`);
      return waitForPrimary({ not: from, standbys: false });
    },
    async killPrimaryHost() {
      const primary = await waitForPrimary();
      const server = processes.get(primary) as ServerProcess;
      const pids = hostProcesses(primary);
      killAll(pids);
      // Exited once the postmaster too has gone: it holds Patroni's output pipes.
      await server.exited;
      // PostgreSQL's processes are not our children: look until they are gone.
      while (pids.some(isRunning)) await new Promise((r) => setTimeout(r, 10));
      return primary;
    },
    async startMember(name) {
      launch(name);
      await waitForPrimary();
    },
    stopMember,
    running: () => names.filter((name) => processes.has(name)),
    stop,
  };
}

/** One member's Patroni configuration (written as YAML). */
function patroniConfig(m: {
  scope: string;
  name: string;
  dir: string;
  port: number;
  restPort: number;
  etcdHosts: string[];
  password: string;
  timing: PatroniTiming;
  parameters: Record<string, string | number>;
}) {
  return {
    scope: m.scope,
    name: m.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${m.restPort}`, connect_address: `127.0.0.1:${m.restPort}` },
    // etcd 3.4 serves the v2 API only with --enable-v2: Patroni talks v3 (through etcd's JSON gateway).
    etcd3: { hosts: m.etcdHosts, protocol: 'http' },
    bootstrap: {
      dcs: {
        ttl: m.timing.ttl,
        loop_wait: m.timing.loopWait,
        retry_timeout: m.timing.retryTimeout,
        maximum_lag_on_failover: 1_048_576,
        // Every commit waits for the standby, so a failover to it loses no acknowledged write.
        synchronous_mode: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: { wal_log_hints: 'on', max_wal_senders: 10, max_replication_slots: 10 },
        },
      },
      initdb: [{ encoding: 'UTF8' }, 'data-checksums'],
    },
    postgresql: {
      listen: `127.0.0.1:${m.port}`,
      connect_address: `127.0.0.1:${m.port}`,
      data_dir: join(m.dir, 'data'),
      bin_dir: postgresBinDir,
      pgpass: join(m.dir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres', password: m.password },
        replication: { username: 'replicator', password: m.password },
      },
      // Its socket in its own directory, not the system's /var/run/postgresql.
      parameters: { unix_socket_directories: m.dir, ...m.parameters },
      pg_hba: [
        'local all all trust',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host replication replicator 127.0.0.1/32 scram-sha-256',
      ],
    },
    watchdog: { mode: 'off' },
  };
}

/** The environment without PG* and PATRONI_* variables of ours, which libpq and Patroni would read. */
function patroniEnvironment(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(PG|PATRONI_)/.test(key)));
  return { ...env, HOME: home, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
}

function chownRecursive(dir: string, user: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

/** The running postmaster of dataDir (from its postmaster.pid, checked against the process's command line). */
function postmasterOf(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return command.includes(dataDir) && isRunning(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Whether the server at `url` takes writes now (out of recovery); false when it cannot be reached. */
async function writable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {}); // a server going away under the check: answered false below
  try {
    await client.connect();
    const { rows } = await client.query<{ writable: boolean }>(
      "select not pg_is_in_recovery() and current_setting('transaction_read_only') = 'off' as writable",
    );
    return rows[0]?.writable === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
}
