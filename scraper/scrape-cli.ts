/**
 * `npm run scrape`: scrape the shop, publish to RabbitMQ, write the file and upload it to FTP, then
 * print a summary. With --once a single round (exit 1 if it failed); otherwise a round every
 * --interval seconds until SIGINT/SIGTERM, which ends the wait or the crawl in progress (a publish or
 * upload under way is finished first) and exits 0. Bad flags or environment: one line, exit 2.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { ConfigError } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { inSpan } from '../common/spans.js';
import { startTracing } from '../common/tracing.js';
import type { CrawlProgress } from './crawl.js';
import { formatSummary } from './listing-pipeline.js';
import { PublishError } from './listing-publisher.js';
import { loadScrapeConfig, type ScrapeConfig, USAGE } from './scrape-config.js';
import { scrapeRound } from './scrape-round.js';

function configOrExit(): ScrapeConfig {
  try {
    const config = loadScrapeConfig(process.argv.slice(2), process.env);
    if (config !== 'help') return config;
    process.stdout.write(`${USAGE}\n(see scraper/README.md)\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scrape: ${error.message}\n`);
    process.exit(2);
  }
}

const config = configOrExit();
const logger = createLogger('scraper', config.logLevel);
const tracing = await startTracing({ service: 'ensemble-scraper', endpoint: config.otlpEndpoint });
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second signal does not wait any more.
    if (stop.signal.aborted) process.exit(130);
    logger.info({ signal }, 'stopping');
    stop.abort();
  });
}

/** The page count on stderr while a terminal watches; nothing otherwise. */
function progressBar(): { update(p: CrawlProgress): void; stop(): void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'scraping {bar} {value}/{total} pages',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0);
  return {
    update: (p) => {
      bar.setTotal(p.total);
      bar.update(p.done);
    },
    stop: () => bar.stop(),
  };
}

async function round(): Promise<boolean> {
  const bar = progressBar();
  try {
    const scrape = () => scrapeRound(config, { logger, signal: stop.signal, onProgress: bar?.update });
    // Each round a trace of its own (the crawl, the publishes, the upload under it).
    const report = tracing.on ? await inSpan('scrape round', { root: true }, scrape) : await scrape();
    bar?.stop();
    logger.info(
      { listingPages: report.listingPages, detailPages: report.detailPages, summary: report.summary },
      'scrape done',
    );
    process.stdout.write(
      `scraped ${report.listingPages} listing pages and ${report.detailPages} detail pages of ${config.startUrl}\n${formatSummary(report.summary)}\n`,
    );
    return true;
  } catch (error) {
    bar?.stop();
    if (stop.signal.aborted) return true;
    logger.error({ err: (error as Error).message }, 'scrape failed');
    process.stderr.write(`scrape: ${(error as Error).message}\n`);
    // A listing that could not be published is not left behind by carrying on.
    if (
      error instanceof PublishError ||
      (error instanceof AggregateError && error.errors.some((e) => e instanceof PublishError))
    ) {
      process.exit(1);
    }
    return false;
  }
}

logger.info({ url: config.startUrl, pages: config.maxPages, once: config.once }, 'scraper starting');
if (config.once) {
  process.exitCode = (await round()) ? 0 : 1;
} else {
  while (!stop.signal.aborted) {
    await round();
    await sleep(config.intervalSeconds * 1000, undefined, { signal: stop.signal }).catch(() => {});
  }
}
await tracing.shutdown();
