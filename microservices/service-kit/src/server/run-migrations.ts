import { createLogger } from '../logging/logger.js';
import type { StorageTarget } from '../postgres/database-env.js';
import { migrate } from '../postgres/migrations.js';

/**
 * The `migrate` command (`node dist/migrate.js`), for a Kubernetes Job or Argo CD PreSync hook: applies
 * pending migrations under the advisory lock and exits 0, or exits 1 with the error logged.
 */
export async function runMigrationsCommand(options: {
  service: string;
  target: StorageTarget;
  migrationsDir: string;
  logLevel: string;
  connectTimeoutMs: number;
}): Promise<never> {
  const logger = createLogger({ level: options.logLevel, service: options.service, version: 'migrate' });
  if (options.target.kind !== 'postgres') {
    logger.warn('DATABASE_URL is not a PostgreSQL URL: the in-memory store has nothing to migrate');
    process.exit(0);
  }
  try {
    await migrate({
      url: options.target.url,
      dir: options.migrationsDir,
      logger,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    process.exit(0);
  } catch (err) {
    logger.fatal({ err }, 'migration failed');
    process.exit(1);
  }
}
