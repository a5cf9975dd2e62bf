/**
 * A real FTP server for tests (launcher/pure-ftpd.ts): one per test file on free ports in a temporary
 * directory, which stop() removes.
 */
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
