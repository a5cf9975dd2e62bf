/**
 * A server for tests whose data lives in a fresh temporary directory: the directory is removed when
 * the server is stopped, and at once when it fails to start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function startInTemporaryDir<T extends { stop(): Promise<void> }>(
  prefix: string,
  start: (dataDir: string) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const server = await start(dataDir);
    return {
      ...server,
      async stop() {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
