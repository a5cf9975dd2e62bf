/** The gateway's configuration, from the environment (see gateway/README.md). */
import { z } from 'zod';
import { httpUrl, logLevel, maxUploadBytes, millis, otlpEndpoint, pemCaFile } from '../common/config.js';
import { queueType } from '../schema/listings-queue.js';

const urlList = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const urls = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const url of urls) {
      if (!httpUrl.safeParse(url).success) {
        ctx.addIssue({
          code: 'custom',
          message: `must be http(s) URLs separated by commas; "${url}" is not`,
        });
        return z.NEVER;
      }
    }
    return urls.map((u) => u.replace(/\/$/, ''));
  });

const amqpUrl = z.string().regex(/^amqps?:\/\/\S+$/, { message: 'must be an amqp:// or amqps:// URL' });
const ftpUrl = z.string().regex(/^ftps?:\/\/[^\s:@/]+:[^\s@/]*@[^\s/:]+(:\d+)?\/?$/, {
  message: 'must be ftp[s]://user:pass@host:port',
});

export const gatewayConfigSchema = z
  .object({
    GATEWAY_URL: httpUrl.default('http://127.0.0.1:4000'),
    BIND_HOST: z.string().min(1).optional(),
    NODE_URLS: urlList,
    CLUSTER_SECRET: z
      .string({ message: 'is required: the secret the nodes sign their announcements with' })
      .min(16, { message: 'must be at least 16 characters' }),
    CLUSTER_ID: z.string().min(1).max(64).default('ensemble'),
    API_TOKEN: z
      .string({ message: 'is required: the bearer token that mutations must carry' })
      .min(16, { message: 'must be at least 16 characters' }),
    LEADER_WAIT_MS: millis(100, 120_000, 10_000),
    NODE_TIMEOUT_MS: millis(100, 120_000, 15_000),
    HEALTH_INTERVAL_MS: millis(50, 60_000, 500),
    MAX_UPLOAD_BYTES: maxUploadBytes,
    RABBITMQ_URL: amqpUrl.optional(),
    QUEUE_PREFETCH: z.coerce.number().int().min(1).max(10_000).default(1_000),
    QUEUE_TYPE: queueType,
    FTP_URL: ftpUrl.optional(),
    FTP_POLL_INTERVAL_S: z.coerce
      .number({ message: 'must be a number of seconds' })
      .min(0.05, { message: 'must be at least 0.05 s' })
      .max(86_400, { message: 'must be at most 86400 s' })
      .default(30),
    FTP_PATH: z.string().startsWith('/').default('/listings/latest.json'),
    FTP_TLS_CA: pemCaFile.optional(),
    DATA_DIR: z.string().min(1).default('.data/gateway'),
    LOG_LEVEL: logLevel,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  })
  .transform((c) => {
    const url = new URL(c.GATEWAY_URL);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return {
      gatewayUrl: c.GATEWAY_URL.replace(/\/$/, ''),
      httpPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      bindHost: c.BIND_HOST ?? (loopback ? '127.0.0.1' : '0.0.0.0'),
      nodeUrls: c.NODE_URLS,
      clusterSecret: c.CLUSTER_SECRET,
      clusterId: c.CLUSTER_ID,
      apiToken: c.API_TOKEN,
      leaderWaitMs: c.LEADER_WAIT_MS,
      nodeTimeoutMs: c.NODE_TIMEOUT_MS,
      healthIntervalMs: c.HEALTH_INTERVAL_MS,
      maxUploadBytes: c.MAX_UPLOAD_BYTES,
      rabbitmqUrl: c.RABBITMQ_URL ?? null,
      queuePrefetch: c.QUEUE_PREFETCH,
      queueType: c.QUEUE_TYPE,
      ftpUrl: c.FTP_URL ?? null,
      ftpPollIntervalMs: Math.round(c.FTP_POLL_INTERVAL_S * 1000),
      ftpPath: c.FTP_PATH,
      /** PEM CA certificates to trust for ftps:// besides the system's. */
      ftpTlsCa: c.FTP_TLS_CA ?? null,
      dataDir: c.DATA_DIR,
      logLevel: c.LOG_LEVEL,
      /** Where traces go (OTLP/HTTP); null: tracing is off. */
      otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    };
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
