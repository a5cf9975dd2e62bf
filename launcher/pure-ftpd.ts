/**
 * A private FTP server from Debian's pure-ftpd package, for the local stack and for tests: one virtual
 * user, chrooted to a home under dataDir whose files are visible on disk, on loopback only.
 *
 * The user lives in a puredb built by `pure-pw mkdb`. We write its passwd line ourselves with an
 * `openssl passwd -6` (SHA-512 crypt) hash: pure-pw's own default, argon2, makes every login take
 * about 3.5 s.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'basic-ftp';
import {
  descendantProcesses,
  isRunning,
  startServerProcess,
  stopServerProcess,
  waitUntilReady,
} from './child-process.js';
import { requireDebianPackage } from './debian-packages.js';

export interface RunningFtp {
  /** ftp://user:password@127.0.0.1:port (ftps:// with TLS) */
  readonly url: string;
  readonly port: number;
  /** The virtual user's home, the root of what it sees; uploads appear here on disk. */
  readonly rootDir: string;
  stop(): Promise<void>;
}

const pureFtpd = '/usr/sbin/pure-ftpd';

/**
 * pure-ftpd refuses uid 0 for virtual users, so the user's files belong to an unprivileged account:
 * nobody/nogroup, which every Debian system has. Tests and the scraper run as root and can still read
 * and write them.
 */
const ftpUid = 65534;
const ftpGid = 65534;

export async function startPureFtpd(options: {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  /** Passive data ports on loopback; default port + 1 … port + 20. */
  passivePorts?: [number, number];
  onLog?: (line: string) => void;
  /** Default 15 s; a start takes well under a second. */
  readyTimeoutMs?: number;
  /**
   * FTPS (explicit TLS, AUTH TLS) with this PEM certificate and key, given to pure-ftpd with
   * `--certfile` instead of its fixed /etc/ssl/private/pure-ftpd.pem. `required`: plain sessions
   * are refused (`--tls 2`); otherwise both are accepted (`--tls 1`).
   */
  tls?: { certFile: string; keyFile: string; required?: boolean };
}): Promise<RunningFtp> {
  requireDebianPackage('pure-ftpd', () => existsSync(pureFtpd), options.onLog);
  const { port, user, password } = options;
  // The passwd file is ':'-separated lines.
  if (/[:\n]/.test(user + password))
    throw new Error('FTP user and password must not contain ":" or newlines');
  const dataDir = resolve(options.dataDir);
  const rootDir = join(dataDir, 'home', user);
  mkdirSync(rootDir, { recursive: true });
  chownSync(rootDir, ftpUid, ftpGid);

  const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password }).toString().trim();
  const passwdFile = join(dataDir, 'pureftpd.passwd');
  const puredb = join(dataDir, 'pureftpd.pdb');
  // login:hash:uid:gid:gecos:home (/./ = chroot there):12 limits, empty = none; as pure-pw writes it.
  writeFileSync(passwdFile, `${user}:${hash}:${ftpUid}:${ftpGid}::${rootDir}/./${':'.repeat(12)}\n`, {
    mode: 0o600,
  });
  const mkdb = spawnSync('pure-pw', ['mkdb', puredb, '-f', passwdFile], { encoding: 'utf8' });
  if (mkdb.status !== 0) throw new Error(`pure-pw mkdb failed: ${mkdb.stderr || mkdb.stdout}`);

  const [passiveLow, passiveHigh] = options.passivePorts ?? [port + 1, port + 20];
  const server = startServerProcess(
    pureFtpd,
    [
      ...['-S', `127.0.0.1,${port}`],
      ...['-l', `puredb:${puredb}`],
      '-E', // no anonymous logins
      '-A', // chroot everyone
      '-j', // create the home directory if missing
      '-H', // no reverse DNS lookups on connect
      ...['-p', `${passiveLow}:${passiveHigh}`],
      ...['-P', '127.0.0.1'],
      ...(options.tls
        ? ['-2', `${options.tls.certFile},${options.tls.keyFile}`, '-Y', options.tls.required ? '2' : '1']
        : []),
      // Not -B: it stays our child, so stop() can wait for its exit.
    ],
    { cwd: dataDir, onLog: options.onLog },
  );
  const url = `${options.tls ? 'ftps' : 'ftp'}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const tlsCa = options.tls ? readFileSync(options.tls.certFile, 'utf8') : undefined;
  const stop = () => stopFtpServer(server.child.pid ?? 0, () => stopServerProcess(server));
  try {
    await waitUntilReady(server, {
      what: `pure-ftpd (port ${port})`,
      timeoutMs: options.readyTimeoutMs ?? 15_000,
      probe: async () => {
        const client = new Client(2_000);
        try {
          await client.access({
            host: '127.0.0.1',
            port,
            user,
            password,
            // Its own certificate is the CA to trust: the probe checks the TLS set-up too.
            ...(tlsCa ? { secure: true, secureOptions: { ca: tlsCa } } : {}),
          });
        } finally {
          client.close();
        }
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, rootDir, stop };
}

/**
 * Each FTP session is a process of its own below the server, and lives on after the server is
 * stopped while its client stays connected: stop the sessions too, and wait until they are gone.
 */
async function stopFtpServer(serverPid: number, stopServer: () => Promise<void>): Promise<void> {
  const sessions = descendantProcesses(serverPid).map(({ pid }) => pid);
  for (const pid of sessions) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
  await stopServer();
  // They are not our children, so there is no exit event to wait for: look again until they are gone.
  const deadline = Date.now() + 5_000;
  while (sessions.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const pid of sessions.filter(isRunning)) process.kill(pid, 'SIGKILL');
}
