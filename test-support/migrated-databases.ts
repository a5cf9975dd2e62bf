/**
 * Migrated databases for a test file: one embedded PostgreSQL, started before the file's tests
 * and stopped after them; each call opens a fresh database (closed at the end too).
 */
import { after, before } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../nodes/store/database.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

export function migratedDatabases(): () => Promise<MikroORM> {
  let server: TestPostgres | undefined;
  const opened: MikroORM[] = [];
  before(async () => {
    server = await startTestPostgres();
  });
  after(async () => {
    for (const orm of opened.splice(0)) await orm.close();
    await server?.stop();
  });
  return async () => {
    if (!server) throw new Error('migratedDatabases: open a database inside a test');
    const orm = await openDatabase(await server.createDatabase());
    opened.push(orm);
    return orm;
  };
}
