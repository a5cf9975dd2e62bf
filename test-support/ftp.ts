/**
 * A real FTP server for tests (launcher/pure-ftpd.ts): one per test file on free ports in a temporary
 * directory, which stop() removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningFtp, startPureFtpd } from '../launcher/pure-ftpd.js';
import { freePort } from './postgres.js';

export interface TestFtp extends RunningFtp {
  readonly user: string;
  readonly password: string;
}

export async function startTestFtp(): Promise<TestFtp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ensemble-ftp-'));
  const user = 'scraper';
  const password = 'test-password';
  // Passive ports: a free one and the next few; a clash only fails the transfer that meets it.
  const passiveLow = await freePort();
  try {
    const ftp = await startPureFtpd({
      dataDir,
      port: await freePort(),
      user,
      password,
      passivePorts: [passiveLow, Math.min(passiveLow + 9, 65535)],
    });
    return {
      ...ftp,
      user,
      password,
      async stop() {
        await ftp.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
