/**
 * `npm run shop`, and the child that `npm start` runs: the demo shop on DEMO_SHOP_HOST:DEMO_SHOP_PORT
 * (default 127.0.0.1:4080) until SIGINT/SIGTERM.
 */
import { z } from 'zod';
import { loadConfigOrExit, logLevel, port } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { startDemoShop } from './demo-shop.js';

const config = loadConfigOrExit(
  'demo-shop',
  z.object({
    DEMO_SHOP_HOST: z.string().min(1, { message: 'must be a host name or address' }).default('127.0.0.1'),
    DEMO_SHOP_PORT: port.default(4080),
    LOG_LEVEL: logLevel,
  }),
);
const logger = createLogger('demo-shop', config.LOG_LEVEL);

try {
  const shop = await startDemoShop({ host: config.DEMO_SHOP_HOST, port: config.DEMO_SHOP_PORT });
  logger.info({ url: shop.url, items: shop.items().length }, `demo shop at ${shop.url}`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'demo shop stopping');
    void shop.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  logger.fatal({ err: error }, `demo shop could not start: ${(error as Error).message}`);
  process.exit(1);
}
