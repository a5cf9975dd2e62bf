/**
 * A node process: reads its configuration, joins the cluster over UDP, runs the election and
 * serves its state over HTTP. Stops cleanly on SIGINT/SIGTERM.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { loadConfigOrExit } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { nodeConfigSchema } from './config.js';
import { ElectionService } from './election/election-service.js';
import { HardStateFile } from './election/hard-state-file.js';
import { UdpTransport } from './transport/udp-transport.js';

const config = loadConfigOrExit('node', nodeConfigSchema);
const logger = createLogger('node', config.logLevel, { node: config.nodeId });

async function main(): Promise<void> {
  const transport = await UdpTransport.open({
    self: config.nodeId,
    bindHost: config.bindHost,
    port: config.udpPort,
    peers: config.peers,
    secret: config.clusterSecret,
    clusterId: config.clusterId,
    logger,
  });
  let election: ElectionService | null = null;
  election = new ElectionService({
    id: config.nodeId,
    voters: [config.nodeId, ...config.peers.map((p) => p.id)],
    electionTimeoutMs: config.electionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    transport,
    store: new HardStateFile(join(config.dataDir, 'raft-state.json')),
    logger,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'cannot persist term and vote; leaving the cluster');
      process.exit(1);
    },
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz' && election) {
      const s = election.status();
      const body = JSON.stringify({
        id: s.id,
        url: config.nodeUrl,
        role: s.role,
        term: s.term,
        leader: s.leader,
        votedFor: s.votedFor,
        datagrams: {
          received: transport.received,
          sent: transport.sent,
          dropped: transport.drops.snapshot(),
        },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.httpPort, config.bindHost, resolve);
  });
  election.start();
  logger.info(
    {
      http: config.nodeUrl,
      udp: `${config.bindHost}:${config.udpPort}`,
      peers: config.peers.map((p) => p.id),
    },
    `node ${config.nodeId} up`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    election?.stop();
    server.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), transport.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: Error) => {
  const message =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `address in use: ${error.message}`
      : error.message;
  process.stderr.write(`node ${config.nodeId}: ${message}\n`);
  process.exit(1);
});
