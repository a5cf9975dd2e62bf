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
export async function freePortRange(
  count: number,
  options: { belowEphemeral?: boolean } = {},
): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = options.belowEphemeral ? belowEphemeralPort(count) : await freePort();
    if (base + count > 65_535) continue;
    let free = true;
    for (let port = base; port < base + count && free; port++) {
      free = (await tcpFree(port)) && (await udpFree(port));
    }
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/**
 * A random base port below Linux's ephemeral range (32768 and up by default), for servers that
 * start some time after their ports were picked: an outgoing connection's source port, taken from
 * the ephemeral range, could take one of them meanwhile (seen with a Patroni member's port).
 */
function belowEphemeralPort(count: number): number {
  return 20_000 + Math.floor(Math.random() * (12_000 - count));
}
