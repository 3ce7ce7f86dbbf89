import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from 'pino';

export interface MigrateOptions {
  url: string;
  /** Directory of versioned `NNNN_name.sql` files with `-- Up Migration` / `-- Down Migration` sections. */
  dir: string;
  logger: Logger;
  connectTimeoutMs?: number;
}

/**
 * Applies pending migrations, recorded in the `pgmigrations` table. A session-level advisory lock is held
 * for the whole run and waited for (not failed on), so N replicas starting at once apply each migration
 * exactly once; the others wait and then find nothing to do. Returns the names applied by this call.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const client = new pg.Client({
    connectionString: options.url,
    application_name: 'migrations',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  const log = options.logger.child({ component: 'migrations' });
  // A connection lost mid-run is an 'error' event here; the statement in flight rejects with it anyway, and
  // without a listener the event alone would end the process instead of letting start-up retry.
  client.on('error', (err) => log.warn({ err }, 'migration connection lost'));
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: options.dir,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Number.POSITIVE_INFINITY,
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: {
        debug: (msg: string) => log.debug(msg),
        info: (msg: string) => log.debug(msg),
        warn: (msg: string) => log.warn(msg),
        error: (msg: string) => log.error(msg),
      },
    });
    const names = applied.map((m) => m.name);
    log.info({ applied: names }, names.length ? 'migrations applied' : 'schema up to date');
    return names;
  } finally {
    await client.end().catch(() => undefined);
  }
}
