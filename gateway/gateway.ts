/** The whole gateway: the server, and beside it the queue consumer and FTP poller when configured. */
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { startGatewayServer } from './gateway-server.js';

export async function startGateway(config: GatewayConfig, logger: Logger) {
  const server = await startGatewayServer(config, logger);
  const extras: Array<{ stop(): Promise<void> }> = [];
  return {
    url: server.url,
    server,
    async stop() {
      for (const extra of extras.reverse()) await extra.stop();
      await server.stop();
    },
  };
}
