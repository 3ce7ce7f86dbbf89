import { setTimeout as sleep } from 'node:timers/promises';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from 'pino';
import { permanentConnectFailure, pgConnection } from '../../data/postgres/connection.js';
import { describeDbError, isUnavailable } from '../../data/postgres/database.js';
import type { DatabaseEnv } from '../../data/postgres/database-env.js';

export interface MigrateOptions {
  url: string;
  /** Directory of versioned `NNNN_name.sql` files with `-- Up Migration` / `-- Down Migration` sections. */
  dir: string;
  logger: Logger;
  connectTimeoutMs?: number;
  /** DB_SSL_ROOT_CERT: the database CA for `verify-full` TLS. */
  sslRootCert?: string | undefined;
  /** The longest this run waits for the migration lock (PostgreSQL `lock_timeout`). */
  lockTimeoutMs?: number;
}

/** The migration lock was not granted in time: another replica or Job is migrating (or stuck). */
export class MigrationLockTimeoutError extends Error {
  readonly code = 'MIGRATION_LOCK_TIMEOUT';
  constructor(readonly waitedMs: number) {
    super(
      `migration lock not granted within ${waitedMs} ms: another replica or migrate Job holds it (see pg_locks where locktype = 'advisory')`,
    );
  }
}

// SQLSTATE 55P03 lock_not_available: what `lock_timeout` raises, pg_advisory_lock included.
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Applies pending migrations, recorded in the `pgmigrations` table. A session-level advisory lock is held
 * for the whole run and waited for, so N replicas starting at once apply each migration exactly once; the
 * others wait and then find nothing to do. The wait is bounded by `lockTimeoutMs` (MigrationLockTimeoutError
 * when it runs out). Returns the names applied by this call.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  const client = new pg.Client({
    ...pgConnection(options.url, options.sslRootCert),
    application_name: 'migrations',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Bounds the advisory lock wait (and any DDL lock wait inside a migration), never the statements' work.
    lock_timeout: lockTimeoutMs,
  });
  const log = options.logger.child({ component: 'migrations' });
  // A connection lost mid-run is an 'error' event here; the statement in flight rejects with it anyway, and
  // without a listener the event alone would end the process instead of letting start-up retry.
  client.on('error', (err) => log.warn({ error: describeDbError(err) }, 'migration connection lost'));
  await client.connect();
  try {
    log.info({ lock_timeout_ms: lockTimeoutMs }, 'taking the migration lock');
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
    }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE)
        throw new MigrationLockTimeoutError(lockTimeoutMs);
      throw err;
    });
    const names = applied.map((m) => m.name);
    log.info({ applied: names }, names.length ? 'migrations applied' : 'schema up to date');
    return names;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A migration that can never succeed by retrying; its message says why in one line. */
export class MigrationRefusedError extends Error {
  readonly code = 'MIGRATION_REFUSED';
}

export interface RetryOptions {
  /** Keep retrying for this long after the first failure (DB_MIGRATE_RETRY_MS). */
  retryMs: number;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/**
 * `migrate` with the bounded retry both the start-up path and the migrate Job use: a database that is not up
 * yet (a fresh CloudNativePG cluster, compose) or a lock held by another replica is retried with backoff
 * (0.5 s doubling to 5 s) until `retryMs` has passed; TLS and credential failures are not retried, they
 * throw MigrationRefusedError at once with the reason.
 */
export async function migrateWithRetry(options: MigrateOptions & RetryOptions): Promise<string[]> {
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const deadline = now() + options.retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrate(options);
    } catch (err) {
      const permanent = permanentConnectFailure(err);
      if (permanent) throw new MigrationRefusedError(permanent);
      const retryable = isUnavailable(err) || err instanceof MigrationLockTimeoutError;
      const delayMs = Math.min(5_000, 250 * 2 ** attempt);
      if (!retryable || now() + delayMs > deadline) {
        options.logger.error(
          { error: describeDbError(err), attempt, retry_ms: options.retryMs },
          retryable ? 'migration failed; retry budget (DB_MIGRATE_RETRY_MS) used up' : 'migration failed',
        );
        throw err;
      }
      options.logger.warn(
        { error: describeDbError(err), attempt, retry_in_ms: delayMs },
        'migration failed; retrying',
      );
      await wait(delayMs);
    }
  }
}

/**
 * Migrates the database at `url` as the environment configures it (TLS root, connect and lock timeouts,
 * how long to retry): what start-up and the `migrate` command both run.
 */
export function migrateAsConfigured(
  env: DatabaseEnv,
  target: { url: string; dir: string; logger: Logger },
): Promise<string[]> {
  return migrateWithRetry({
    ...target,
    sslRootCert: env.DB_SSL_ROOT_CERT,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    lockTimeoutMs: env.DB_MIGRATE_LOCK_TIMEOUT_MS,
    retryMs: env.DB_MIGRATE_RETRY_MS,
  });
}
