/**
 * A real Patroni cluster for tests (launcher/patroni-cluster.ts): two PostgreSQL members in
 * synchronous mode on a three-member etcd, on free ports in a temporary directory, which stop()
 * removes. fsync is off: the tests kill processes, never the machine, so the page cache survives.
 */
import { type PatroniCluster, type PatroniTiming, startPatroniCluster } from '../launcher/patroni-cluster.js';
import { freePortRange } from './free-port-range.js';
import { startInTemporaryDir } from './temporary-server.js';

export async function startTestPatroni(
  options: { database?: string; timing?: PatroniTiming; onLog?: (who: string, line: string) => void } = {},
): Promise<PatroniCluster> {
  return startInTemporaryDir('ensemble-patroni-', async (dataDir) =>
    startPatroniCluster({
      dataDir,
      basePort: await freePortRange(10, { belowEphemeral: true }),
      database: options.database ?? 'ensemble',
      password: 'test',
      timing: options.timing,
      postgresParameters: { fsync: 'off' },
      onLog: options.onLog,
    }),
  );
}
