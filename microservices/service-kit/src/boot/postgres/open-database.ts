import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { permanentConnectFailure } from '../../data/postgres/connection.js';
import { Database } from '../../data/postgres/database.js';
import type { DatabaseEnv } from '../../data/postgres/database-env.js';
import { MigrationRefusedError, migrateAsConfigured } from './migrations.js';

/**
 * The service's SQL migrations: `dist/migrations` beside a bundled main, `migrations/` beside `src/` when
 * running from source.
 */
export function resolveMigrationsDir(mainUrl: string): string {
  const candidates = ['./migrations', '../migrations'].map((rel) => fileURLToPath(new URL(rel, mainUrl)));
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`no migrations directory beside ${fileURLToPath(mainUrl)}`);
  return found;
}

/** The database cannot be used as configured (TLS refused, bad credentials): start-up must stop. */
export class DatabaseRefusedError extends Error {
  readonly code = 'DATABASE_REFUSED';
}

/**
 * Migrates (unless a Job does it) and opens the pool. At start-up the database may still be coming up
 * (compose, a fresh cluster), so migration is retried with backoff for DB_MIGRATE_RETRY_MS before giving up.
 * A failure no retry can fix (the server's certificate refused, no TLS where it is required, bad
 * credentials) stops start-up at once with one `fatal` line saying why: never a silent plain-text fallback.
 */
export async function openDatabase(options: {
  url: string;
  env: DatabaseEnv;
  service: string;
  migrationsDir: string;
  logger: Logger;
  registry: Registry;
}): Promise<Database> {
  const { env, logger } = options;
  const refuse = (reason: string): never => {
    logger.fatal({ reason }, `database refused at start-up: ${reason}`);
    throw new DatabaseRefusedError(`database refused at start-up: ${reason}`);
  };
  let db: Database;
  try {
    db = new Database({
      url: options.url,
      sslRootCert: env.DB_SSL_ROOT_CERT,
      applicationName: options.service,
      poolMax: env.DB_POOL_MAX,
      connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
      logger,
      registry: options.registry,
    });
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
  if (env.DB_MIGRATE_ON_START) {
    try {
      await migrateAsConfigured(env, { url: options.url, dir: options.migrationsDir, logger });
    } catch (err) {
      await db.close();
      if (err instanceof MigrationRefusedError) refuse(err.message);
      throw err;
    }
  } else {
    logger.info('DB_MIGRATE_ON_START=false: migrations are left to the migrate job');
    // One round trip, so a refused certificate stops start-up here instead of surfacing as readiness 503s;
    // an unreachable database is left to readiness (the service starts and waits for it).
    await db.check().catch(async (err: unknown) => {
      const permanent = permanentConnectFailure(err);
      if (!permanent) return;
      await db.close();
      refuse(permanent);
    });
  }
  return db;
}
