/**
 * The node's web-server half: PostgreSQL (the event store and projections), the leadership
 * bridge that claims the write fence, and GraphQL. It is loaded after the election is already
 * running, because its libraries take a second to load and an election should not wait for them.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { startGraphqlServer } from '../api/graphql-server.js';
import { NodeCommands } from './app/commands.js';
import { NodeFeeds } from './app/feeds.js';
import { GatewayAnnouncer } from './app/gateway-announcer.js';
import { Leadership } from './app/leadership.js';
import { NodeReadModels } from './app/read-models.js';
import type { NodeConfig } from './config.js';
import type { ElectionService } from './election/election-service.js';
import { nodeHealth } from './node-health.js';
import { openDatabase } from './store/database.js';
import { EventFeed } from './store/event-feed.js';
import { EventStore } from './store/event-store.js';
import type { UdpTransport } from './transport/udp-transport.js';

/** PostgreSQL may still be starting (compose, npm start): wait for it, saying so. */
async function connect(config: NodeConfig, logger: Logger): Promise<MikroORM> {
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase(config.databaseUrl);
    } catch (error) {
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn({ err: (error as Error).message, attempt }, 'cannot open the database yet; retrying');
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

export async function startWebServer(options: {
  config: NodeConfig;
  election: ElectionService;
  transport: UdpTransport;
  logger: Logger;
}): Promise<{ stop(): Promise<void> }> {
  const { config, election, transport, logger } = options;
  const orm = await connect(config, logger);
  const store = new EventStore(orm);
  const self = { id: config.nodeId, url: config.nodeUrl };
  const announcer = config.gatewayUrl
    ? new GatewayAnnouncer({
        gatewayUrl: config.gatewayUrl,
        secret: config.clusterSecret,
        clusterId: config.clusterId,
        nodeId: config.nodeId,
        nodeUrl: config.nodeUrl,
        logger,
      })
    : null;
  const leadership = new Leadership({ election, store, self, logger, announcer });
  const eventFeed = await EventFeed.start(config.databaseUrl, store, logger);
  const server = await startGraphqlServer({
    host: config.bindHost,
    port: config.httpPort,
    readModels: new NodeReadModels(orm, store, { ...self, status: () => election.status() }),
    commands: new NodeCommands(store, leadership),
    feeds: new NodeFeeds(leadership, eventFeed),
    apiToken: config.apiToken,
    maxUploadBytes: config.maxUploadBytes,
    batchSecret: config.clusterSecret,
    logger,
    healthz: () => ({
      status: 200,
      body: nodeHealth({ url: config.nodeUrl, election, leadership, transport }),
    }),
  });
  await leadership.start();
  return {
    async stop() {
      await leadership.stop();
      await server.close();
      await eventFeed.stop();
      await orm.close();
    },
  };
}
