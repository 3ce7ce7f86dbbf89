import { createLogger } from '../base/logger.js';
import type { DatabaseEnv } from '../data/postgres/database-env.js';
import { MigrationRefusedError, migrateAsConfigured } from './postgres/migrations.js';

/**
 * The `migrate` command (`node dist/migrate.js`), for a Kubernetes Job or Argo CD PreSync hook: applies
 * pending migrations under the advisory lock, with the same bounded retry as start-up (the database may
 * still be initialising), and exits 0, or exits 1 with the reason logged.
 */
export async function runMigrationsCommand(options: {
  service: string;
  env: DatabaseEnv;
  migrationsDir: string;
  logLevel: string;
}): Promise<never> {
  const { env } = options;
  const logger = createLogger({ level: options.logLevel, service: options.service, version: 'migrate' });
  // A migration Job exists only where a database should: without one it must fail, not pass green while
  // every pod runs its own in-memory store.
  if (env.DATABASE_URL.kind !== 'postgres') {
    logger.fatal(
      'DATABASE_URL is empty or memory://: the migrate command needs the postgres:// URL of the database',
    );
    process.exit(1);
  }
  try {
    await migrateAsConfigured(env, { url: env.DATABASE_URL.url, dir: options.migrationsDir, logger });
    process.exit(0);
  } catch (err) {
    if (err instanceof MigrationRefusedError)
      logger.fatal({ reason: err.message }, `migration refused: ${err.message}`);
    else
      logger.fatal(
        { error: { message: err instanceof Error ? err.message : String(err) } },
        'migration failed',
      );
    process.exit(1);
  }
}
