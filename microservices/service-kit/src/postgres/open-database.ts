import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Database, describeDbError } from './database.js';
import type { DatabaseEnv } from './database-env.js';
import { migrate } from './migrations.js';

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

const START_MIGRATION_ATTEMPTS = 10;

/**
 * Migrates (unless a Job does it) and opens the pool. At start-up the database may still be coming up
 * (compose, a fresh cluster), so migration is retried with backoff for about half a minute before giving up.
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
  if (env.DB_MIGRATE_ON_START) {
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate({
          url: options.url,
          dir: options.migrationsDir,
          logger,
          connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
        });
        break;
      } catch (err) {
        if (attempt >= START_MIGRATION_ATTEMPTS) throw err;
        const delayMs = Math.min(5_000, 250 * 2 ** attempt);
        logger.warn(
          { error: describeDbError(err), attempt, retry_in_ms: delayMs },
          'migration at start-up failed; retrying',
        );
        await sleep(delayMs);
      }
    }
  } else {
    logger.info('DB_MIGRATE_ON_START=false: migrations are left to the migrate job');
  }
  return new Database({
    url: options.url,
    applicationName: options.service,
    poolMax: env.DB_POOL_MAX,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    logger,
    registry: options.registry,
  });
}
