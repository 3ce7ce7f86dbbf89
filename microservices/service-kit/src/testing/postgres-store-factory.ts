import { afterAll, inject } from 'vitest';
import { silentLogger } from '../base/logger.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import { migrate } from '../boot/postgres/migrations.js';
import { Database } from '../data/postgres/database.js';
import { createTestDatabase } from './postgres-server.js';

export interface PostgresStoreFactoryOptions<S> {
  /** Prefix of the per-file database name, e.g. `users`. */
  prefix: string;
  migrationsDir: string;
  /** Tables emptied before each store is handed out. */
  tables: readonly string[];
  build: (db: Database) => S;
}

/**
 * For contract suites in the `db` project: a factory of empty stores on a real PostgreSQL, or null when
 * the run has no server (the global setup already said so loudly). One database per test file, migrated
 * once; every call truncates the tables and opens a fresh pool, all closed after the file.
 */
export function postgresStoreFactory<S>(options: PostgresStoreFactoryOptions<S>): (() => Promise<S>) | null {
  const adminUrl = inject('pgAdminUrl');
  if (!adminUrl) return null;
  const opened: Database[] = [];
  let database: Promise<{ url: string; drop(): Promise<void> }> | undefined;
  const migrated = () => {
    database ??= createTestDatabase(adminUrl, options.prefix).then(async (db) => {
      await migrate({ url: db.url, dir: options.migrationsDir, logger: silentLogger() });
      return db;
    });
    return database;
  };
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
    await (await database)?.drop();
  });
  return async () => {
    const { url } = await migrated();
    const db = new Database({
      url,
      applicationName: `${options.prefix}-store-tests`,
      poolMax: 25,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 5_000,
      logger: silentLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
    });
    opened.push(db);
    await db.query('test.truncate', `TRUNCATE ${options.tables.join(', ')} RESTART IDENTITY CASCADE`);
    return options.build(db);
  };
}
