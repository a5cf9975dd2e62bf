/**
 * Every FTP_POLL_INTERVAL_S, fetch the scraper's file (`/listings/latest.json`) and, when its
 * sha256 differs from the last one forwarded, send it to the leader as an `uploadFile` multipart
 * request (the leader stores it once per sha256 and imports its listings). The last forwarded
 * sha256 is kept on disk so a restarted gateway does not send it again. FTP down, the file
 * missing, no leader: one log line, and the next tick tries again; a file the leader refuses as
 * invalid is remembered and not sent again until it changes. Over ftps:// the server's certificate
 * is always verified, against the system's CAs plus FTP_TLS_CA; an untrusted one is a log line
 * saying so, and the poller keeps trying.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import type { Logger } from 'pino';
import { ApiError } from '../../api/errors.js';
import type { StoredFileDto } from '../../api/ports.js';
import { writeFileAtomically } from '../../common/atomic-file.js';
import type { GatewayMetrics } from '../metrics.js';
import { importSpan } from './traced-import.js';

export interface FileWriter {
  uploadFile(file: { name: string; bytes: Buffer }, idempotencyKey?: string): Promise<StoredFileDto>;
}

export type PollOutcome =
  | 'imported'
  | 'unchanged'
  | 'missing'
  | 'too_large'
  | 'refused'
  | 'unreachable'
  | 'no_leader';

interface PollerState {
  /** sha256 of the last file the leader stored, or refused as invalid. */
  lastSha256: string | null;
}

const FTP_TIMEOUT_MS = 10_000;

/** Node's codes for a TLS certificate that does not chain to a trusted CA. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

export class ListingsFilePoller {
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<PollOutcome> | null = null;
  private state: PollerState;
  private lastOutcome: PollOutcome | null = null;

  constructor(
    private readonly options: {
      readonly ftpUrl: string;
      readonly path: string;
      /** PEM CA certificates to trust for ftps:// besides the system's (FTP_TLS_CA). */
      readonly tlsCa?: string | null;
      readonly intervalMs: number;
      readonly maxBytes: number;
      readonly stateFile: string;
      readonly writer: FileWriter;
      readonly metrics: GatewayMetrics;
      readonly logger: Logger;
    },
  ) {
    this.state = loadState(options.stateFile);
  }

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** One poll (a poll already running is joined, never doubled). */
  poll(): Promise<PollOutcome> {
    this.polling ??= this.pollOnce()
      .catch((error: Error): PollOutcome => {
        this.options.logger.error({ err: error }, 'FTP poll failed');
        return 'unreachable';
      })
      .then((outcome) => {
        this.options.metrics.ftpPolls.inc({ outcome });
        this.lastOutcome = outcome;
        return outcome;
      })
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async pollOnce(): Promise<PollOutcome> {
    const { logger, path } = this.options;
    let bytes: Buffer | 'missing' | 'too_large';
    try {
      bytes = await this.download();
    } catch (error) {
      const { message, code } = error as NodeJS.ErrnoException;
      this.logChange(
        'unreachable',
        { err: message, ...(code ? { code } : {}) },
        code !== undefined && UNTRUSTED_CERTIFICATE.has(code)
          ? "cannot fetch the listings file: the FTP server's TLS certificate is not trusted (FTP_TLS_CA names the PEM file of a private CA); next tick tries again"
          : 'cannot fetch the listings file over FTP; next tick tries again',
      );
      return 'unreachable';
    }
    if (bytes === 'missing') {
      this.logChange('missing', { path }, 'no listings file on FTP yet');
      return 'missing';
    }
    if (bytes === 'too_large') {
      this.logChange(
        'too_large',
        { path, limit: this.options.maxBytes },
        'the listings file on FTP is larger than the upload limit; skipped',
      );
      return 'too_large';
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 === this.state.lastSha256) return 'unchanged';
    try {
      const stored = await importSpan({ path, sha256, size: bytes.length }, () =>
        this.options.writer.uploadFile({ name: basename(path), bytes }, `ftp:${sha256}`),
      );
      this.remember(sha256);
      logger.info(
        { sha256, size: bytes.length, importedListings: stored.importedListings },
        'listings file imported from FTP',
      );
      return 'imported';
    } catch (error) {
      if (error instanceof ApiError && error.code === 'BAD_USER_INPUT') {
        this.remember(sha256);
        logger.error(
          { sha256, reason: error.message },
          'the leader refused the listings file from FTP; it is not sent again until it changes',
        );
        return 'refused';
      }
      this.logChange(
        'no_leader',
        { err: (error as Error).message },
        'cannot forward the listings file yet; next tick tries again',
      );
      return 'no_leader';
    }
  }

  private async download(): Promise<Buffer | 'missing' | 'too_large'> {
    const url = new URL(this.options.ftpUrl);
    const client = new Client(FTP_TIMEOUT_MS);
    try {
      await client.access({
        host: url.hostname,
        port: Number(url.port || 21),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        secure: url.protocol === 'ftps:',
        // The certificate is always verified (the control and every data connection).
        secureOptions: {
          minVersion: 'TLSv1.2',
          rejectUnauthorized: true,
          ...(this.options.tlsCa ? { ca: this.options.tlsCa } : {}),
        },
      });
      let size: number;
      try {
        size = await client.size(this.options.path);
      } catch (error) {
        if (error instanceof FTPError && error.code === 550) return 'missing';
        throw error;
      }
      if (size > this.options.maxBytes) return 'too_large';
      const chunks: Buffer[] = [];
      let received = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          received += chunk.length;
          chunks.push(chunk);
          done();
        },
      });
      await client.downloadTo(sink, this.options.path);
      // The file may have grown between SIZE and RETR.
      if (received > this.options.maxBytes) return 'too_large';
      return Buffer.concat(chunks, received);
    } finally {
      client.close();
    }
  }

  private remember(sha256: string): void {
    this.state = { lastSha256: sha256 };
    writeFileAtomically(this.options.stateFile, `${JSON.stringify(this.state)}\n`);
  }

  /** One log line per change of trouble, not one per tick. */
  private logChange(outcome: PollOutcome, fields: Record<string, unknown>, message: string): void {
    if (this.lastOutcome !== outcome) this.options.logger.warn(fields, message);
  }
}

function loadState(file: string): PollerState {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PollerState>;
    return { lastSha256: typeof parsed.lastSha256 === 'string' ? parsed.lastSha256 : null };
  } catch {
    return { lastSha256: null };
  }
}
