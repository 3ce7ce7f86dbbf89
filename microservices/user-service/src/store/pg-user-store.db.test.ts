import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { postgresStoreFactory } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from '../domain/user.js';
import { PgUserStore } from './pg-user-store.js';

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));
const open = postgresStoreFactory({
  prefix: 'users_json_bytes',
  migrationsDir,
  tables: ['users', 'idempotency_keys'],
  build: (db) => ({ db, store: new PgUserStore(db) }),
});

/** The backfill of migration 0002, for users stored before it. */
const backfill = (() => {
  const sql = readFileSync(`${migrationsDir}/0002_user_min_json_bytes.sql`, 'utf8');
  const statement = /^UPDATE users [^;]*;/m.exec(sql)?.[0];
  if (!statement) throw new Error('0002_user_min_json_bytes.sql has no UPDATE of users');
  return statement.slice(0, -1);
})();

const user = (id: string, text: string): User => ({
  id,
  name: `name ${text}`,
  email: `${id}@example.com`,
  age: 30,
  created_at: '2026-01-01T00:00:00.000Z',
});

describe.skipIf(!open)('PgUserStore: the JSON size kept with each user', () => {
  it('when users are written by the service or by plain SQL (an import, a hand-made fix), then each keeps a close lower bound of its JSON', async () => {
    const { db, store } = await (open as NonNullable<typeof open>)();
    await store.create(user('ascii', 'plain'));
    await store.create(user('multi-byte', 'Größe ✓ 日本'.repeat(10)));
    await store.update('ascii', (current) => ({ ...current, name: '\u0007'.repeat(150) }));
    // Writers that know nothing of the column: the trigger fills and follows it.
    await db.query(
      'test.import',
      `INSERT INTO users (id, name, email, age, created_at)
       VALUES ('imported', $1, 'imported@example.com', NULL, '2026-01-02T00:00:00Z')`,
      ['\u0001\u0002"\\'.repeat(40)],
    );
    await db.query('test.fix', `UPDATE users SET email = $1 WHERE id = 'multi-byte'`, [
      `${'"'.repeat(200)}@example.com`,
    ]);
    const sizes = async () =>
      (
        await db.query<{ id: string; min_json_bytes: number }>(
          'test.sizes',
          'SELECT id, min_json_bytes FROM users ORDER BY id',
        )
      ).rows;
    const rows = await sizes();
    // Users stored before the migration had no size: its backfill gives each the one the trigger keeps.
    await db.query('test.forget', 'UPDATE users SET min_json_bytes = 0');
    await db.query('test.backfill', backfill);
    expect(await sizes()).toEqual(rows);
    expect(rows.map((row) => row.id)).toEqual(['ascii', 'imported', 'multi-byte']);
    for (const row of rows) {
      const json = Buffer.byteLength(JSON.stringify(await store.get(row.id)));
      expect(row.min_json_bytes, row.id).toBeLessThanOrEqual(json);
      expect(row.min_json_bytes, row.id).toBeGreaterThan(json * 0.9);
    }
  });
});
