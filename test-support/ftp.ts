/**
 * A real FTP server for tests (launcher/pure-ftpd.ts): one per test file on free ports in a temporary
 * directory, which stop() removes.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { type RunningFtp, startPureFtpd } from '../launcher/pure-ftpd.js';
import { freePort } from './postgres.js';
import { startInTemporaryDir } from './temporary-server.js';

export interface TestFtp extends RunningFtp {
  readonly user: string;
  readonly password: string;
}

export async function startTestFtp(): Promise<TestFtp> {
  const user = 'scraper';
  const password = 'test-password';
  // Passive ports: a free one and the next few; a clash only fails the transfer that meets it.
  const passiveLow = await freePort();
  return startInTemporaryDir('ensemble-ftp-', async (dataDir) => ({
    ...(await startPureFtpd({
      dataDir,
      port: await freePort(),
      user,
      password,
      passivePorts: [passiveLow, Math.min(passiveLow + 9, 65535)],
    })),
    user,
    password,
  }));
}

/**
 * Put a file on the server as the scraper does: uploaded beside it, then renamed over it, so that
 * a poller never reads half of it. Over ftps:// the server's certificate is verified, against
 * `ca` when given.
 */
export async function putFtpFile(
  ftp: { readonly url: string },
  path: string,
  content: string,
  tls: { readonly ca?: string } = {},
): Promise<void> {
  const client = new Client(10_000);
  const url = new URL(ftp.url);
  try {
    await client.access({
      host: url.hostname,
      port: Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      secure: url.protocol === 'ftps:',
      secureOptions: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}) },
    });
    await client.ensureDir(posix.dirname(path));
    await client.uploadFrom(Readable.from(Buffer.from(content)), `${path}.tmp`);
    await client.rename(`${path}.tmp`, path);
  } finally {
    client.close();
  }
}
