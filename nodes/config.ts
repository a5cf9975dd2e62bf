/** A node's configuration, from the environment (see the README's configuration table). */
import { z } from 'zod';
import {
  httpUrl,
  logLevel,
  maxUploadBytes,
  millis,
  millisRange,
  otlpEndpoint,
  port,
} from '../common/config.js';
import { parseDatabaseUrl } from './store/database-url.js';
import { parsePeers } from './transport/udp-transport.js';

export const nodeConfigSchema = z
  .object({
    NODE_ID: z
      .string({ message: 'is required (this node’s id, such as n1)' })
      .regex(/^[A-Za-z0-9_-]{1,32}$/, { message: 'must be 1-32 letters, digits, - or _' }),
    NODE_URL: httpUrl.default('http://127.0.0.1:4001'),
    UDP_PORT: port.default(5001),
    PEERS: z
      .string({ message: 'is required: the other nodes as id@host:udpPort,…' })
      .transform((text, ctx) => {
        try {
          return parsePeers(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    CLUSTER_SECRET: z
      .string({ message: 'is required: a shared secret of at least 16 characters' })
      .min(16, { message: 'must be at least 16 characters' }),
    CLUSTER_ID: z.string().min(1).max(64).default('ensemble'),
    ELECTION_TIMEOUT_MS: millisRange('150-300'),
    HEARTBEAT_INTERVAL_MS: millis(5, 10_000, 30),
    LEADER_PROBE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
    DATABASE_URL: z
      .string({ message: 'is required: the shared PostgreSQL, as postgres://user:pass@host:port/db' })
      .superRefine((text, ctx) => {
        try {
          parseDatabaseUrl(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
    DATABASE_FAILOVER_MS: millis(0, 600_000, 15_000),
    API_TOKEN: z
      .string({ message: 'is required: the bearer token that mutations must carry' })
      .min(16, { message: 'must be at least 16 characters' }),
    GATEWAY_URL: httpUrl.optional(),
    MAX_UPLOAD_BYTES: maxUploadBytes,
    DATA_DIR: z.string().min(1).optional(),
    BIND_HOST: z.string().min(1).optional(),
    LOG_LEVEL: logLevel,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  })
  .superRefine((c, ctx) => {
    if (c.HEARTBEAT_INTERVAL_MS * 2 > c.ELECTION_TIMEOUT_MS.min) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEARTBEAT_INTERVAL_MS'],
        message: `must be at most half the minimum election timeout (${c.ELECTION_TIMEOUT_MS.min} ms)`,
      });
    }
    if (c.PEERS.some((p) => p.id === c.NODE_ID && p.port !== c.UDP_PORT)) {
      ctx.addIssue({ code: 'custom', path: ['PEERS'], message: `lists ${c.NODE_ID} with another UDP port` });
    }
  })
  .transform((c) => {
    const url = new URL(c.NODE_URL);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return {
      nodeId: c.NODE_ID,
      nodeUrl: c.NODE_URL.replace(/\/$/, ''),
      httpPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      // Listen where the advertised URL points: loopback stays private, anything else is public.
      bindHost: c.BIND_HOST ?? (loopback ? '127.0.0.1' : '0.0.0.0'),
      udpPort: c.UDP_PORT,
      // This node may appear in PEERS (one list for the whole cluster); it is not its own peer.
      peers: c.PEERS.filter((p) => p.id !== c.NODE_ID),
      clusterSecret: c.CLUSTER_SECRET,
      clusterId: c.CLUSTER_ID,
      electionTimeoutMs: c.ELECTION_TIMEOUT_MS,
      heartbeatIntervalMs: c.HEARTBEAT_INTERVAL_MS,
      /** Probe a late leader and campaign as soon as nobody listens at its address. */
      leaderProbe: c.LEADER_PROBE === 'on',
      databaseUrl: c.DATABASE_URL,
      /** How long a database failover in progress may last before the node stops leading. */
      databaseFailoverMs: c.DATABASE_FAILOVER_MS,
      apiToken: c.API_TOKEN,
      gatewayUrl: c.GATEWAY_URL ?? null,
      maxUploadBytes: c.MAX_UPLOAD_BYTES,
      dataDir: c.DATA_DIR ?? `.data/nodes/${c.NODE_ID}`,
      logLevel: c.LOG_LEVEL,
      /** Where traces go (OTLP/HTTP); null: tracing is off. */
      otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    };
  });

export type NodeConfig = z.output<typeof nodeConfigSchema>;
