/**
 * A plain TCP forward from the test bridge's host address to a loopback port: the Patroni members
 * listen on 127.0.0.1 only (launcher/patroni-cluster.ts), and the nodes, each in its own network
 * namespace, reach the host through the bridge. A connection that breaks on one side is broken
 * on the other, so a killed primary looks to the node as it would without the forward.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpForward {
  stop(): Promise<void>;
}

export async function forwardTcp(
  listenHost: string,
  port: number,
  toHost = '127.0.0.1',
): Promise<TcpForward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: toHost, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // An error or a close on either side (a killed server's reset) ends the other at once.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => resolve());
  });
  return {
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
