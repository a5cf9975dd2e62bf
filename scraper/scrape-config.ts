/**
 * `npm run scrape`'s flags and environment, checked together with zod: a bad flag, value or
 * variable is one ConfigError line naming it (the CLI prints it and exits 2), never a stack trace.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, httpUrl, logLevel, otlpEndpoint, parseConfig, pemCaFile } from '../common/config.js';
import { type QueueType, queueType } from '../schema/listings-queue.js';
import type { FetchPolicy } from './fetch-page.js';
import type { PriceRange } from './listing-pipeline.js';
import { demoShopProfile } from './profiles/demo-shop.js';
import { loadSiteProfile, ProfileError, type SiteProfile } from './site-profile.js';

export const USAGE = `usage: npm run scrape -- [--url URL] [--pages N] [--min-price X] [--max-price Y] [--once]
                         [--interval S] [--out FILE] [--profile FILE] [--mdl-per-eur RATE]
                         [--concurrency N] [--timeout-ms MS] [--retries N] [--dry-run]`;

const whole = (name: string, min: number, max: number) => {
  const message = `must be a whole number of ${name} from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message });
};

/** A plain decimal number, such as 150 or 99.90 (no sign, no exponent, not empty). */
const decimal = (message: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, { message })
    .transform(Number);

const euros = decimal('must be a price in EUR ≥ 0, such as 150 or 99.90');
const rate = decimal('must be how many MDL make one EUR, such as 19.5').refine((n) => n > 0, {
  message: 'must be how many MDL make one EUR (> 0), such as 19.5',
});

const serviceUrl = (protocols: RegExp, example: string) =>
  z.url({ protocol: protocols, message: `must be a URL like ${example}` });

export const scrapeConfigSchema = z
  .object({
    '--url': httpUrl.optional(),
    '--pages': whole('pages', 1, 1000).default(10),
    '--min-price': euros.optional(),
    '--max-price': euros.optional(),
    '--once': z.boolean().default(false),
    '--interval': whole('seconds', 1, 7 * 24 * 3600).default(300),
    '--out': z.string().min(1, { message: 'must be a file path' }).default('.data/scraper/latest.json'),
    '--profile': z.string().min(1, { message: 'must be a JSON file path' }).optional(),
    '--mdl-per-eur': rate.optional(),
    '--concurrency': whole('requests', 1, 32).default(4),
    '--timeout-ms': whole('milliseconds', 100, 600_000).default(10_000),
    '--retries': whole('retries', 0, 10).default(3),
    '--dry-run': z.boolean().default(false),
    RABBITMQ_URL: serviceUrl(/^amqps?$/, 'amqp://user:pass@host:5672').default(
      'amqp://guest:guest@127.0.0.1:5672',
    ),
    FTP_URL: serviceUrl(/^ftps?$/, 'ftp://user:pass@host:2121').default(
      'ftp://ensemble:ensemble@127.0.0.1:2121',
    ),
    FTP_TLS_CA: pemCaFile.optional(),
    QUEUE_TYPE: queueType,
    MDL_PER_EUR: rate.default(19.5),
    LOG_LEVEL: logLevel,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  })
  .superRefine((c, ctx) => {
    const min = c['--min-price'];
    const max = c['--max-price'];
    if (min !== undefined && max !== undefined && min > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['--max-price'],
        message: `must not be below --min-price (${min})`,
      });
    }
  });

export interface ScrapeConfig {
  readonly startUrl: string;
  readonly profile: SiteProfile;
  readonly maxPages: number;
  readonly range: PriceRange;
  readonly once: boolean;
  readonly intervalSeconds: number;
  readonly outPath: string;
  readonly perEur: Readonly<Record<string, number>>;
  readonly concurrency: number;
  readonly fetchPolicy: FetchPolicy;
  /** Only scrape and write the file: no queue, no FTP. */
  readonly dryRun: boolean;
  readonly rabbitmqUrl: string;
  /** How `listings` is declared when the scraper finds it missing (QUEUE_TYPE), as the gateway declares it. */
  readonly queueType: QueueType;
  readonly ftpUrl: string;
  /** PEM CA certificates to trust for ftps:// besides the system's. */
  readonly ftpTlsCa?: string;
  readonly logLevel: z.infer<typeof logLevel>;
  /** Where traces go (OTLP/HTTP); null: tracing is off. */
  readonly otlpEndpoint: string | null;
}

const FLAGS = {
  url: { type: 'string' },
  pages: { type: 'string' },
  'min-price': { type: 'string' },
  'max-price': { type: 'string' },
  once: { type: 'boolean' },
  interval: { type: 'string' },
  out: { type: 'string' },
  profile: { type: 'string' },
  'mdl-per-eur': { type: 'string' },
  concurrency: { type: 'string' },
  'timeout-ms': { type: 'string' },
  retries: { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** node:util's parse errors, said in one short line. */
function flagError(error: unknown): ConfigError {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new ConfigError(`unknown flag ${quoted} (see --help)`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return new ConfigError(`unexpected argument ${quoted}`);
  const flag = /'(--[\w-]+)/.exec(message)?.[1];
  if (flag && /argument missing/.test(message)) return new ConfigError(`${flag} needs a value`);
  if (flag && /does not take an argument/.test(message)) return new ConfigError(`${flag} takes no value`);
  return new ConfigError(message.split('. ')[0] ?? message);
}

/** The config from argv (without node and the script) and the environment; `help` when asked for usage. */
export function loadScrapeConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ScrapeConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw flagError(error);
  }
  if (values.help) return 'help';
  const input: Record<string, string | boolean | undefined> = { ...env };
  for (const [name, value] of Object.entries(values)) input[`--${name}`] = value;
  const c = parseConfig(scrapeConfigSchema, input as Record<string, string | undefined>);
  let profile = demoShopProfile;
  if (c['--profile'] !== undefined) {
    try {
      profile = loadSiteProfile(c['--profile']);
    } catch (error) {
      if (error instanceof ProfileError) throw new ConfigError(`--profile: ${error.message}`);
      throw error;
    }
  }
  return {
    startUrl: c['--url'] ?? profile.startUrl,
    profile,
    maxPages: c['--pages'],
    range: { minPriceEur: c['--min-price'], maxPriceEur: c['--max-price'] },
    once: c['--once'],
    intervalSeconds: c['--interval'],
    outPath: c['--out'],
    perEur: { MDL: c['--mdl-per-eur'] ?? c.MDL_PER_EUR },
    concurrency: c['--concurrency'],
    fetchPolicy: {
      timeoutMs: c['--timeout-ms'],
      attempts: c['--retries'] + 1,
      baseDelayMs: 500,
      maxDelayMs: 8000,
    },
    dryRun: c['--dry-run'],
    rabbitmqUrl: c.RABBITMQ_URL,
    queueType: c.QUEUE_TYPE,
    ftpUrl: c.FTP_URL,
    ftpTlsCa: c.FTP_TLS_CA,
    logLevel: c.LOG_LEVEL,
    otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
  };
}
