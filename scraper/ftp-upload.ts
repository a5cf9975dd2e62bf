/**
 * Puts the processed listings file on the FTP server where the gateway polls for it. The bytes go
 * to a temporary name in the same folder first and are then renamed into place, so a poller sees
 * either the previous file or the whole new one, never half of it. The folder is created when
 * missing; ftps:// URLs use explicit TLS (AUTH TLS). A failed upload is tried again after a backoff.
 */
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Client } from 'basic-ftp';
import { type RetryPolicy, withRetries } from './retry.js';

export const LISTINGS_REMOTE_PATH = '/listings/latest.json';

export interface FtpUploadOptions {
  /** ftp[s]://user:pass@host[:port] */
  readonly url: string;
  readonly remotePath?: string;
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** PEM CA certificates to trust for ftps:// besides the system's (a private CA, or a self-signed certificate itself). */
  readonly ca?: string;
  onRetry?(error: unknown, failedAttempt: number, delayMs: number): void;
}

async function uploadOnce(
  localPath: string,
  url: URL,
  remotePath: string,
  timeoutMs: number,
  ca: string | undefined,
): Promise<void> {
  const client = new Client(timeoutMs);
  const folder = posix.dirname(remotePath);
  const temporary = `${posix.basename(remotePath)}.${randomUUID()}.part`;
  try {
    await client.access({
      host: url.hostname,
      port: url.port === '' ? 21 : Number(url.port),
      user: decodeURIComponent(url.username) || 'anonymous',
      password: decodeURIComponent(url.password),
      secure: url.protocol === 'ftps:',
      // The certificate is always verified (the control and every data connection).
      secureOptions: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(ca ? { ca } : {}) },
    });
    await client.ensureDir(folder); // and makes it the working folder
    try {
      await client.uploadFrom(localPath, temporary);
      await client.rename(temporary, posix.basename(remotePath));
    } catch (error) {
      await client.remove(temporary, true).catch(() => {});
      throw error;
    }
  } finally {
    client.close();
  }
}

export async function uploadToFtp(localPath: string, options: FtpUploadOptions): Promise<void> {
  const url = new URL(options.url);
  const remotePath = posix.resolve('/', options.remotePath ?? LISTINGS_REMOTE_PATH);
  await withRetries(
    () => uploadOnce(localPath, url, remotePath, options.timeoutMs ?? 15_000, options.ca),
    options.retry ?? { attempts: 4, baseDelayMs: 500, maxDelayMs: 5000 },
    { onRetry: options.onRetry },
  );
}
