/**
 * The mailer process: follows the gateway's leaderChanged subscription and emails ALERT_EMAIL
 * once per new term, remembering under DATA_DIR what it has sent. Runs until SIGINT/SIGTERM,
 * or until its launcher goes away (common/shutdown.ts).
 */
import { join } from 'node:path';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { stopOnSignals } from '../common/shutdown.js';
import { startTracing } from '../common/tracing.js';
import { AlertService } from './alert-service.js';
import { AlertStateFile } from './alert-state.js';
import { alertConfigSchema } from './config.js';
import { LeaderFeed } from './leader-feed.js';
import { createSmtpSender } from './smtp-client.js';
import { tracedSender } from './traced-sender.js';

const config = loadConfigOrExit('mailer', alertConfigSchema);
const logger = createLogger('mailer', config.logLevel);

const tracing = await startTracing({ service: 'ensemble-mailer', endpoint: config.otlpEndpoint });
const sender = tracing.on ? tracedSender(createSmtpSender(config.smtp)) : createSmtpSender(config.smtp);
const service = new AlertService({
  stateFile: new AlertStateFile(join(config.dataDir, 'alert-state.json')),
  sender,
  from: config.from,
  to: config.alertTo,
  gatewayUrl: config.gatewayUrl,
  logger,
  onFatal: (error) => {
    logger.fatal({ err: error }, 'cannot write the alert state; stopping rather than alert twice');
    process.exit(1);
  },
});
const feed = new LeaderFeed({ url: config.feedUrl, logger, onChange: (change) => service.offer(change) });

try {
  service.start();
} catch (error) {
  process.stderr.write(`mailer: ${(error as Error).message}\n`);
  process.exit(1);
}
feed.start();
logger.info(
  { feed: config.feedUrl, smtp: config.smtp.redacted, to: config.alertTo, dataDir: config.dataDir },
  'mailer up',
);

// A send in flight may be waiting for its timeouts: the stop's deadline abandons it.
stopOnSignals(logger, async () => {
  await feed.stop();
  await service.stop();
  sender.close();
  await tracing.shutdown();
});
