/**
 * One round of `npm run scrape`: scrape the shop, write the processed listings to the local file,
 * publish each to the `listings` queue and upload the file to FTP. The queue and FTP are both tried
 * even when the other fails; the round fails if either did, so nothing is dropped without a word.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { CrawlProgress } from './crawl.js';
import { uploadToFtp } from './ftp-upload.js';
import { publishListings } from './listing-publisher.js';
import type { ScrapeConfig } from './scrape-config.js';
import { type ScrapeResult, scrapeShop } from './scrape-shop.js';

export interface RoundReport extends ScrapeResult {
  /** The queue messages' ids, one per listing; empty on a dry run. */
  readonly messageIds: string[];
  readonly uploaded: boolean;
}

/** Writes through a temporary file, so a reader never sees half of it. */
async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, 'utf8');
  await rename(temporary, path);
}

export async function scrapeRound(
  config: Omit<ScrapeConfig, 'once' | 'intervalSeconds' | 'logLevel' | 'otlpEndpoint'>,
  options: {
    logger: Logger;
    signal?: AbortSignal;
    onProgress?(progress: CrawlProgress): void;
    queue?: string;
  },
): Promise<RoundReport> {
  const { logger } = options;
  const result = await scrapeShop({
    ...config,
    signal: options.signal,
    onProgress: options.onProgress,
    onRetry: (url, error, failedAttempt, delayMs) =>
      logger.warn(
        { url, failedAttempt, delayMs, err: (error as Error).message },
        `fetch failed, retrying: ${url}`,
      ),
  });
  for (const d of result.dropped) logger.debug({ url: d.url, reason: d.reason, detail: d.detail }, 'dropped');
  await writeAtomically(config.outPath, `${JSON.stringify(result.listings, null, 2)}\n`);
  logger.info({ file: config.outPath, listings: result.listings.length }, 'listings written');
  if (config.dryRun) return { ...result, messageIds: [], uploaded: false };

  const failures: Error[] = [];
  let messageIds: string[] = [];
  try {
    const published = await publishListings(result.listings, {
      url: config.rabbitmqUrl,
      queue: options.queue,
      queueType: config.queueType,
      onRetry: ({ unconfirmed, failedAttempt, delayMs, error }) =>
        logger.warn(
          { unconfirmed, failedAttempt, delayMs, err: (error as Error)?.message },
          'publish not confirmed, retrying',
        ),
    });
    messageIds = published.messageIds;
    logger.info({ queue: options.queue ?? 'listings', published: messageIds.length }, 'listings published');
  } catch (error) {
    failures.push(error as Error);
    logger.error({ err: (error as Error).message }, 'publishing failed');
  }
  let uploaded = false;
  try {
    await uploadToFtp(config.outPath, {
      url: config.ftpUrl,
      ca: config.ftpTlsCa,
      onRetry: (error, failedAttempt, delayMs) =>
        logger.warn({ failedAttempt, delayMs, err: (error as Error).message }, 'FTP upload failed, retrying'),
    });
    uploaded = true;
    logger.info({ path: '/listings/latest.json' }, 'listings uploaded to FTP');
  } catch (error) {
    failures.push(error as Error);
    logger.error({ err: (error as Error).message }, 'FTP upload failed');
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
  return { ...result, messageIds, uploaded };
}
