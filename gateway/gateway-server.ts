/**
 * The gateway, assembled: the leader registry and node directory, the two routers, the proxy's
 * fast path, and the same GraphQL API as every node (api/) over the gateway's own ports, plus
 * announcements, /healthz, /metrics, the cluster page and the IDE. The queue consumer and the
 * FTP poller are started by main.ts beside it.
 */
import type { Logger } from 'pino';
import { startGraphqlServer } from '../api/graphql-server.js';
import { processLocalRootFields } from '../schema/graphql/process-local.js';
import type { GatewayConfig } from './config.js';
import { GatewayFeeds } from './feeds/gateway-feeds.js';
import { gatewayReadiness } from './gateway-readiness.js';
import { announceRoute } from './http/announce-route.js';
import { graphqlProxy } from './http/graphql-proxy.js';
import { pageRoutes } from './http/page-routes.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { metricsSummary } from './metrics-summary.js';
import { GatewayCommands } from './ports/gateway-commands.js';
import { GatewayLeadership } from './ports/gateway-leadership.js';
import { GatewayReadModels } from './ports/gateway-read-models.js';
import { LeaderRegistry } from './routing/leader-registry.js';
import { LeaderRouter } from './routing/leader-router.js';
import { NodeBatcher } from './routing/node-batcher.js';
import { NodeDirectory } from './routing/node-directory.js';
import { QueryRouter } from './routing/query-router.js';
import { WriteDocuments } from './routing/write-documents.js';

export type GatewayServerConfig = Pick<
  GatewayConfig,
  | 'gatewayUrl'
  | 'bindHost'
  | 'httpPort'
  | 'nodeUrls'
  | 'clusterSecret'
  | 'clusterId'
  | 'apiToken'
  | 'leaderWaitMs'
  | 'nodeTimeoutMs'
  | 'healthIntervalMs'
  | 'maxUploadBytes'
>;

export interface GatewayServer {
  readonly url: string;
  readonly registry: LeaderRegistry;
  readonly directory: NodeDirectory;
  readonly metrics: GatewayMetrics;
  /** Writes on the leader, for the queue consumer and the FTP poller. */
  readonly commands: GatewayCommands;
  stop(): Promise<void>;
}

export async function startGatewayServer(
  config: GatewayServerConfig,
  logger: Logger,
): Promise<GatewayServer> {
  const registry = new LeaderRegistry();
  // The write documents the leader is sent, previewed to the followers (validated there, not run).
  const documents = new WriteDocuments({
    nodes: () => directory.all(),
    logger,
    onPreview: (outcome) => metrics.documentPreviews.inc({ outcome }),
  });
  const directory = new NodeDirectory({
    seeds: config.nodeUrls,
    registry,
    intervalMs: config.healthIntervalMs,
    logger,
    onChange: (node) => {
      feeds.watchNodes();
      if (node.healthy) feeds.reconnectNow(node.url);
      documents.nodeChanged(node);
    },
  });
  const metrics = createMetrics(registry, directory);
  // Requests for one node in the same turn share one HTTP exchange (the nodes' /graphql/batch).
  const transport = new NodeBatcher({
    secret: config.clusterSecret,
    logger,
    onBatch: (size) => {
      metrics.batches.inc();
      metrics.batchedRequests.inc(size);
    },
  });
  const leaderRouter = new LeaderRouter({
    transport,
    registry,
    directory,
    leaderWaitMs: config.leaderWaitMs,
    nodeTimeoutMs: config.nodeTimeoutMs,
    metrics,
    logger,
  });
  const queryRouter = new QueryRouter({
    directory,
    nodeTimeoutMs: config.nodeTimeoutMs,
    transport,
    oneNodePerTurn: true,
  });
  const readModels = new GatewayReadModels(registry, directory, queryRouter);
  const feeds = new GatewayFeeds(registry, directory, logger, () => readModels.headPosition());
  const commands = new GatewayCommands(leaderRouter, config.apiToken);
  registry.onChange((leader) =>
    logger.info({ leader: leader.id, term: leader.term, url: leader.url }, 'leader changed'),
  );

  const server = await startGraphqlServer({
    host: config.bindHost,
    port: config.httpPort,
    readModels,
    commands,
    feeds,
    leadership: new GatewayLeadership({
      registry,
      apiToken: config.apiToken,
      leaderWaitMs: config.leaderWaitMs,
    }),
    apiToken: config.apiToken,
    maxUploadBytes: config.maxUploadBytes,
    logger,
    healthz: () => {
      const leader = registry.current();
      // What the cluster page's cards show too: the last answer's database status and drops.
      const nodes = directory
        .all()
        .map(({ id, url, healthy, role, term, problem, lastSeenAt, database, drops }) => ({
          id,
          url,
          healthy,
          role,
          term,
          problem,
          lastSeenAt,
          database,
          drops,
        }));
      return leader
        ? {
            status: 200,
            body: { status: 'ok', leader: { id: leader.id, url: leader.url, term: leader.term }, nodes },
          }
        : { status: 503, body: { status: 'no leader known yet', leader: null, nodes } };
    },
    readyz: () => gatewayReadiness(registry.current(), directory.all()),
    extraRoutes: (app, schema) => {
      // First: nearly every request is a POST /graphql that the proxy forwards as it is.
      app.post(
        '/graphql',
        graphqlProxy({
          queries: queryRouter,
          leader: leaderRouter,
          documents,
          ownFields: processLocalRootFields(schema),
          apiToken: config.apiToken,
          maxUploadBytes: config.maxUploadBytes,
          metrics,
          logger,
        }),
      );
      announceRoute(app, { registry, secret: config.clusterSecret, clusterId: config.clusterId, logger });
      app.get('/metrics', async (_req, res) => {
        res.type(metrics.register.contentType).send(await metrics.register.metrics());
      });
      app.get('/metrics/summary', async (_req, res) => {
        res.json(await metricsSummary(metrics));
      });
      pageRoutes(app, { gatewayUrl: config.gatewayUrl });
    },
  });
  directory.start();
  feeds.watchNodes();
  return {
    url: server.url,
    registry,
    directory,
    metrics,
    commands,
    async stop() {
      await directory.stop();
      await documents.stop();
      await feeds.stop();
      await server.close();
    },
  };
}
