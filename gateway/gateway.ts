/** The whole gateway: the server, and beside it the queue consumer and FTP poller when configured. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { ListingsFilePoller } from './ftp/listings-file-poller.js';
import { startGatewayServer } from './gateway-server.js';
import { ListingsConsumer } from './queue/listings-consumer.js';

export async function startGateway(config: GatewayConfig, logger: Logger) {
  const server = await startGatewayServer(config, logger);
  const extras: Array<{ stop(): Promise<void> }> = [];
  if (config.rabbitmqUrl) {
    const consumer = new ListingsConsumer({
      url: config.rabbitmqUrl,
      prefetch: config.queuePrefetch,
      queueType: config.queueType,
      writer: server.commands,
      metrics: server.metrics,
      logger: logger.child({ part: 'queue' }),
    });
    await consumer.start();
    extras.push(consumer);
  } else {
    logger.info('RABBITMQ_URL is not set: the listings queue is not consumed');
  }
  if (config.ftpUrl) {
    const poller = new ListingsFilePoller({
      ftpUrl: config.ftpUrl,
      path: config.ftpPath,
      tlsCa: config.ftpTlsCa,
      intervalMs: config.ftpPollIntervalMs,
      maxBytes: config.maxUploadBytes,
      stateFile: join(config.dataDir, 'ftp-poller.json'),
      writer: server.commands,
      metrics: server.metrics,
      logger: logger.child({ part: 'ftp' }),
    });
    poller.start();
    extras.push(poller);
  } else {
    logger.info('FTP_URL is not set: the FTP listings file is not polled');
  }
  return {
    url: server.url,
    server,
    async stop() {
      for (const extra of extras.reverse()) await extra.stop();
      await server.stop();
    },
  };
}
