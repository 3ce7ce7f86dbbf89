import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { postgresStoreFactory } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.js';
import { PgOrderStore } from './pg-order-store.js';

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));
const open = postgresStoreFactory({
  prefix: 'orders_json_bytes',
  migrationsDir,
  tables: ['orders', 'order_items', 'idempotency_keys'],
  build: (db) => ({ db, store: new PgOrderStore(db) }),
});

/** The backfill of migration 0002: the same lower bound, computed from the stored rows. */
const backfill = (() => {
  const sql = readFileSync(`${migrationsDir}/0002_order_min_json_bytes.sql`, 'utf8');
  const statement = /UPDATE orders o[\s\S]*?;/.exec(sql)?.[0];
  if (!statement) throw new Error('0002_order_min_json_bytes.sql has no UPDATE of orders');
  return statement.slice(0, -1);
})();

const order = (id: string, items: number, text: string): Order => ({
  id,
  user_id: `user-${text}`,
  items: Array.from({ length: items }, (_, i) => ({
    product_id: `p${i}-${text}`,
    product_name: `name ${text}`,
    quantity: 1,
    price: 1,
  })),
  shipping_address: `1 ${text} Road`,
  total_amount: items,
  status: 'pending',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
});

describe.skipIf(!open)('PgOrderStore: the JSON size kept with each order', () => {
  it('when orders are created, then the size stored with each equals what migration 0002 computes from its rows', async () => {
    const { db, store } = await (open as NonNullable<typeof open>)();
    await store.create(order('ascii', 3, 'plain'));
    await store.create(order('multi-byte', 100, 'Größe ✓ 日本'));
    const stored = async () =>
      (
        await db.query<{ id: string; min_json_bytes: number }>(
          'test.sizes',
          'SELECT id, min_json_bytes FROM orders ORDER BY id',
        )
      ).rows;
    const atInsert = await stored();
    await db.query('test.backfill', backfill);
    expect(await stored()).toEqual(atInsert);
    for (const row of atInsert) {
      const json = Buffer.byteLength(JSON.stringify(await store.get(row.id)));
      // A lower bound of the order's JSON, and not a loose one.
      expect(row.min_json_bytes).toBeLessThanOrEqual(json);
      expect(row.min_json_bytes).toBeGreaterThan(json / 2);
    }
  });
});
