import { fileURLToPath } from 'node:url';
import { postgresStoreFactory } from '@microservices/service-kit/testing';
import { MemoryOrderStore } from './memory-order-store.js';
import type { OrderStore } from './order-store.js';
import { PgOrderStore } from './pg-order-store.js';

const postgres = postgresStoreFactory({
  prefix: 'orders',
  migrationsDir: fileURLToPath(new URL('../../migrations', import.meta.url)),
  tables: ['orders', 'order_items', 'idempotency_keys'],
  build: (db) => new PgOrderStore(db),
});

/** Every OrderStore implementation, each call giving an empty store, for `describe.each(STORES)` suites. */
export const STORES: Array<[string, () => Promise<OrderStore>]> = [
  ['memory', async () => new MemoryOrderStore()],
  ...(postgres ? [['postgres', postgres] as [string, () => Promise<OrderStore>]] : []),
];
