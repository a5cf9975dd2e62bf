/**
 * The node's web-server half: PostgreSQL (the event store and projections), the bridge between
 * the election and the database (leadership/: the fence keeper, the database watch, the Node-table
 * report), and GraphQL (api-ports/: the API's ports answered by this node). It is loaded after the election is already
 * running, because its libraries take a second to load and an election should not wait for them.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { startGraphqlServer } from '../api/graphql-server.js';
import { GatewayAnnouncer } from './announcer/gateway-announcer.js';
import { databaseRefusals } from './api-ports/database-refusals.js';
import { ElectionTransitions } from './api-ports/election-transitions.js';
import { NodeFeeds } from './api-ports/feeds.js';
import { LeaderChanges } from './api-ports/leader-changes.js';
import { NodeReadModels } from './api-ports/read-models.js';
import { NodeCommands } from './commands/node-commands.js';
import type { NodeConfig } from './config.js';
import type { ElectionService } from './election/election-service.js';
import { DatabaseWatch } from './leadership/database-watch.js';
import { FenceKeeper } from './leadership/fence-keeper.js';
import { LeadershipHandover } from './leadership/leadership-handover.js';
import { NodeReporter } from './leadership/node-reporter.js';
import { PeerUrls } from './leadership/peer-urls.js';
import { nodeHealth, nodeReadiness } from './node-health.js';
import { rehearsalFence, WriteRehearsal } from './rehearsal/write-rehearsal.js';
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

export interface WebServer {
  /** From now on /readyz answers 503 (`stopping`): the first step of a stop. */
  markStopping(): void;
  /**
   * The graceful shutdown's next step: a leader hands over (bounded by `limitMs`), true once a
   * successor holds the fence; a follower does nothing (false).
   */
  handOverLeadership(limitMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startWebServer(options: {
  config: NodeConfig;
  election: ElectionService;
  transport: UdpTransport;
  logger: Logger;
}): Promise<WebServer> {
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
  const urls = new PeerUrls(store.nodes, self);
  const reporter = new NodeReporter({ registry: store.nodes, election, url: self.url, urls });
  const watch = new DatabaseWatch({
    election,
    probe: () => reporter.report(),
    failoverMs: config.databaseFailoverMs,
    nodeId: self.id,
    logger,
  });
  const keeper = new FenceKeeper({ election, fence: store.fence, self, logger, announcer, urls, watch });
  const leaderChanges = new LeaderChanges(election, urls);
  const transitions = new ElectionTransitions(election, self.id);
  const eventFeed = await EventFeed.start(config.databaseUrl, store, logger);
  let stopping = false;
  const handover = new LeadershipHandover({
    election,
    keeper,
    fence: store.fence,
    logChanged: (limitMs) => eventFeed.nextChange(limitMs),
    urls,
    voters: [config.nodeId, ...config.peers.map((p) => p.id)],
    electionTimeoutMs: config.electionTimeoutMs,
    logger,
  });
  const server = await startGraphqlServer({
    host: config.bindHost,
    port: config.httpPort,
    readModels: new NodeReadModels(orm, store, { ...self, status: () => election.status() }),
    commands: new NodeCommands(store, keeper),
    rehearsalCommands: new NodeCommands(store, rehearsalFence),
    knownErrors: databaseRefusals,
    feeds: new NodeFeeds(leaderChanges, transitions, eventFeed),
    leadership: handover,
    apiToken: config.apiToken,
    maxUploadBytes: config.maxUploadBytes,
    batchSecret: config.clusterSecret,
    logger,
    healthz: () => ({
      status: 200,
      body: nodeHealth({ url: config.nodeUrl, election, urls, keeper, watch, transport }),
    }),
    readyz: () => nodeReadiness(election.status(), watch.health(), stopping),
  });
  const rehearsal = new WriteRehearsal({
    selfUrl: server.url,
    apiToken: config.apiToken,
    clusterSecret: config.clusterSecret,
    leads: () => election.status().role === 'leader',
    logger,
  });
  keeper.start();
  rehearsal.start();
  reporter.start();
  leaderChanges.start();
  transitions.start();
  await watch.start();
  return {
    markStopping() {
      stopping = true;
    },
    async handOverLeadership(limitMs) {
      if (election.status().role !== 'leader') return false;
      logger.info({ node: self.id, limitMs }, 'handing leadership over before stopping');
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        handover.transferLeadership().then(
          (change) => ({
            handedOver: true,
            what: `handed over to ${change.leader.id} in term ${change.term}`,
          }),
          (error: Error) => ({ handedOver: false, what: `leadership not handed over: ${error.message}` }),
        ),
        new Promise<{ handedOver: boolean; what: string }>((resolve) => {
          timer = setTimeout(
            () => resolve({ handedOver: false, what: `leadership not handed over within ${limitMs} ms` }),
            limitMs,
          );
        }),
      ]);
      clearTimeout(timer);
      logger.info({ node: self.id }, outcome.what);
      return outcome.handedOver;
    },
    async stop() {
      await rehearsal.stop();
      watch.stop();
      reporter.stop();
      leaderChanges.stop();
      transitions.stop();
      await keeper.stop();
      await server.close();
      await eventFeed.stop();
      await orm.close();
    },
  };
}
