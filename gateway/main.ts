/**
 * The gateway process: the single front door. Serves GraphQL (routing writes to the announced
 * leader and reads to healthy nodes), consumes the listings queue and polls the FTP file when
 * RABBITMQ_URL and FTP_URL are set. Stops cleanly on SIGINT/SIGTERM.
 */
import * as nodeModule from 'node:module';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { stopOnSignals } from '../common/shutdown.js';
import { startTracing } from '../common/tracing.js';
import { gatewayConfigSchema } from './config.js';

nodeModule.enableCompileCache?.();

const config = loadConfigOrExit('gateway', gatewayConfigSchema);
const logger = createLogger('gateway', config.logLevel);

async function main(): Promise<void> {
  // Before the server is built: it adds its spans only when tracing is on.
  const tracing = await startTracing({ service: 'ensemble-gateway', endpoint: config.otlpEndpoint });
  const { startGateway } = await import('./gateway.js');
  const gateway = await startGateway(config, logger);
  stopOnSignals(logger, async () => {
    await gateway.stop();
    await tracing.shutdown();
  });
  logger.info({ url: gateway.url, nodes: config.nodeUrls }, 'gateway ready');
}

main().catch((error) => {
  logger.fatal({ err: error }, 'gateway failed to start');
  process.exit(1);
});
