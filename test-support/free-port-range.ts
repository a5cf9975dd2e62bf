/**
 * A run of consecutive free ports, TCP and UDP both, for a LocalCluster (whose nodes count up
 * from a base HTTP port and a base UDP port) in tests that must not rely on fixed ports. Free
 * when asked, like freePort(): another process could still take one before the test does.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { freePort } from './postgres.js';

const tcpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

const udpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });

/** The first of `count` consecutive ports that are all free on 127.0.0.1, for TCP and UDP. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    let free = true;
    for (let port = base; port < base + count && free; port++) {
      free = (await tcpFree(port)) && (await udpFree(port));
    }
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
