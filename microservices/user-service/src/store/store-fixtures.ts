import { fileURLToPath } from 'node:url';
import { postgresStoreFactory } from '@microservices/service-kit/testing';
import { MemoryUserStore } from './memory-user-store.js';
import { PgUserStore } from './pg-user-store.js';
import type { UserStore } from './user-store.js';

const postgres = postgresStoreFactory({
  prefix: 'users',
  migrationsDir: fileURLToPath(new URL('../../migrations', import.meta.url)),
  tables: ['users', 'idempotency_keys'],
  build: (db) => new PgUserStore(db),
});

/** Every UserStore implementation, each call giving an empty store, for `describe.each(STORES)` suites. */
export const STORES: Array<[string, () => Promise<UserStore>]> = [
  ['memory', async () => new MemoryUserStore()],
  ...(postgres ? [['postgres', postgres] as [string, () => Promise<UserStore>]] : []),
];
