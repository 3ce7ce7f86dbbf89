import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MemoryBudget } from '../../data/memory-budget.js';
import type { Database } from '../../data/postgres/database.js';
import type { DatabaseEnv } from '../../data/postgres/database-env.js';
import { openDatabase, resolveMigrationsDir } from './open-database.js';

/** What both service stores can do for start-up and shutdown. */
export interface ClosableStore {
  purgeExpiredKeys(): Promise<number>;
  close(): Promise<void>;
}

/** A service's two stores, made from what `DATABASE_URL` opened. */
export interface StoreMakers<S extends ClosableStore> {
  postgres: (db: Database) => S;
  /** The in-memory store, bounded by the budget MEMORY_STORE_MAX_BYTES sets. */
  memory: (budget: MemoryBudget) => S;
}

const PURGE_KEYS_EVERY_MS = 60 * 60 * 1000;

/**
 * Opens the store `DATABASE_URL` asks for (PostgreSQL, migrated unless a Job does it, or the in-memory
 * default with a loud warning) and schedules the hourly purge of expired idempotency keys.
 * Returns the store and the resource that stops the purge and closes it on shutdown.
 */
export async function openStore<S extends ClosableStore>(
  options: StoreMakers<S> & {
    env: DatabaseEnv;
    service: string;
    mainUrl: string;
    logger: Logger;
    registry: Registry;
  },
): Promise<{ store: S; resource: { name: string; close: () => Promise<void> } }> {
  const { env, logger } = options;
  let store: S;
  if (env.DATABASE_URL.kind === 'postgres') {
    const db = await openDatabase({
      url: env.DATABASE_URL.url,
      env,
      service: options.service,
      migrationsDir: resolveMigrationsDir(options.mainUrl),
      logger,
      registry: options.registry,
    });
    store = options.postgres(db);
    logger.info('storage: PostgreSQL');
  } else {
    store = options.memory(
      new MemoryBudget({ maxBytes: env.MEMORY_STORE_MAX_BYTES, logger, registry: options.registry }),
    );
    logger.warn(
      { max_bytes: env.MEMORY_STORE_MAX_BYTES },
      'storage: in-memory (DATABASE_URL unset): data is not persisted and is lost on restart; writes past MEMORY_STORE_MAX_BYTES answer 507',
    );
  }
  const purge = setInterval(() => {
    store.purgeExpiredKeys().catch((err: unknown) => logger.warn({ err }, 'purging idempotency keys failed'));
  }, PURGE_KEYS_EVERY_MS).unref();
  const close = async () => {
    clearInterval(purge);
    await store.close();
  };
  return { store, resource: { name: 'store', close } };
}
