/**
 * A node process: one web server of the cluster. It opens the shared PostgreSQL (running the
 * migrations), serves GraphQL — queries always, mutations while it leads and holds the write
 * fence — and then joins the election over UDP, whose term and vote live on its own disk. When
 * it becomes leader it announces itself to the gateway. Stops cleanly on SIGINT/SIGTERM
 * (common/shutdown.ts): a leader first hands its leadership to a follower (see
 * shutdownTransferMs), so that a planned restart costs no election timeout, and lingers a moment
 * before closing (handOverLingerMs).
 */
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { stopOnSignals } from '../common/shutdown.js';
import { startTracing } from '../common/tracing.js';
import { nodeConfigSchema } from './config.js';
import { ElectionService } from './election/election-service.js';
import { HardStateFile } from './election/hard-state-file.js';
import { ElectionRehearsal } from './rehearsal/election-rehearsal.js';
import { handOverLingerMs, shutdownTransferMs } from './shutdown-transfer.js';
import { UdpTransport } from './transport/udp-transport.js';
import type { WebServer } from './web-server.js';

// Later starts load the (large) dependency graph from V8's on-disk code cache.
nodeModule.enableCompileCache?.();

const config = loadConfigOrExit('node', nodeConfigSchema);
const logger = createLogger('node', config.logLevel, { node: config.nodeId });

const handOverMs = shutdownTransferMs(config.electionTimeoutMs.max);
const lingerMs = handOverLingerMs(config.electionTimeoutMs.max);

async function main(): Promise<void> {
  const transport = await UdpTransport.open({
    self: config.nodeId,
    bindHost: config.bindHost,
    port: config.udpPort,
    peers: config.peers,
    secret: config.clusterSecret,
    clusterId: config.clusterId,
    openProbeSockets: config.leaderProbe,
    logger,
  });
  const election = new ElectionService({
    id: config.nodeId,
    voters: [config.nodeId, ...config.peers.map((p) => p.id)],
    electionTimeoutMs: config.electionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    leaderProbe: config.leaderProbe,
    transport,
    store: new HardStateFile(join(config.dataDir, 'raft-state.json')),
    logger,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'cannot persist term and vote; leaving the cluster');
      process.exit(1);
    },
  });
  // The election starts once this node can serve: loading the web server and opening the
  // database block the event loop for seconds on a busy machine, and a node that joins the
  // election before that only times out, or, as leader, fails to heartbeat and is replaced.
  // (A node without its database could not serve reads or claim the write fence anyway.)
  const { startWebServer } = await import('./web-server.js');
  const tracing = await startTracing({
    service: 'ensemble-node',
    endpoint: config.otlpEndpoint,
    attributes: { 'service.instance.id': config.nodeId, 'ensemble.node.id': config.nodeId },
  });

  // Before the election starts, and on: an election runs warm code (nodes/rehearsal/).
  const rehearsal = new ElectionRehearsal({ logger });
  rehearsal.start();

  let web: WebServer | null = null;
  const shutdown = stopOnSignals(logger, async () => {
    web?.markStopping();
    if (await web?.handOverLeadership(handOverMs)) {
      // Handed over: this node must not stand again while it lingers (its successor failing in
      // that moment would otherwise make it leader just before it closes). It still votes.
      election.setEligible(false);
      logger.info(
        { node: config.nodeId, lingerMs },
        'lingering before closing, so that the new leader starts alone',
      );
      await new Promise((resolve) => setTimeout(resolve, lingerMs));
    }
    election.stop();
    rehearsal.stop();
    await web?.stop();
    await transport.close();
    await tracing.shutdown();
  });

  web = await startWebServer({ config, election, transport, logger });
  if (shutdown.requested) return;
  election.start();
  logger.info(
    {
      http: config.nodeUrl,
      udp: `${config.bindHost}:${config.udpPort}`,
      peers: config.peers.map((p) => p.id),
    },
    `node ${config.nodeId} up`,
  );
}

main().catch((error: Error) => {
  const message =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `address in use: ${error.message}`
      : error.message;
  process.stderr.write(`node ${config.nodeId}: ${message}\n`);
  process.exit(1);
});
