import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { captureLogger } from '../../testing/capture-logger.js';
import { freePort } from '../../testing/free-port.js';
import { createTestDatabase } from '../../testing/postgres-server.js';
import { MigrationLockTimeoutError, migrate, migrateWithRetry } from './migrations.js';

const adminUrl = inject('pgAdminUrl');
const dir = mkdtempSync(join(tmpdir(), 'kit-migrations-'));
let url = '';
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  writeFileSync(
    join(dir, '0001_init.sql'),
    '-- Up Migration\nCREATE TABLE lock_test (id int);\n-- Down Migration\nDROP TABLE lock_test;\n',
  );
  if (!adminUrl) return;
  const created = await createTestDatabase(adminUrl, 'migrations');
  url = created.url;
  drop = created.drop;
});
afterAll(async () => {
  await drop?.();
  rmSync(dir, { recursive: true, force: true });
});

/** Another session (a replica or a Job mid-migration) holding the migration lock until released. */
async function holdLock(): Promise<{ release: () => Promise<void> }> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query(`SELECT pg_advisory_lock(${PG_MIGRATE_LOCK_ID})`);
  return {
    release: async () => {
      await holder.query(`SELECT pg_advisory_unlock(${PG_MIGRATE_LOCK_ID})`);
      await holder.end();
    },
  };
}

describe.skipIf(!adminUrl)('migration lock wait and retry (bounded)', () => {
  it('when another session holds the migration lock, then migrate gives up after lockTimeoutMs with a clear error', async () => {
    const lock = await holdLock();
    const { logger, lines } = captureLogger('debug');
    const started = Date.now();
    try {
      await expect(migrate({ url, dir, logger, lockTimeoutMs: 1_000 })).rejects.toThrow(
        MigrationLockTimeoutError,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect(migrate({ url, dir, logger, lockTimeoutMs: 1_000 })).rejects.toThrow(
        /migration lock not granted within 1000 ms: another replica or migrate Job holds it/,
      );
      expect(lines().some((l) => l.msg === 'taking the migration lock' && l.lock_timeout_ms === 1_000)).toBe(
        true,
      );
    } finally {
      await lock.release();
    }
  });

  it('when the lock is released within the retry window, then migrateWithRetry retries and applies the migration once', async () => {
    const lock = await holdLock();
    const { logger, lines } = captureLogger();
    const releasing = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() => lock.release());
    const applied = await migrateWithRetry({ url, dir, logger, lockTimeoutMs: 1_000, retryMs: 10_000 });
    await releasing;
    expect(applied).toEqual(['0001_init']);
    expect(lines().filter((l) => l.msg === 'migration failed; retrying').length).toBeGreaterThanOrEqual(1);
    expect(await migrate({ url, dir, logger })).toEqual([]);
  });

  it('when the lock stays taken, then migrateWithRetry gives up once its retry budget is used up', async () => {
    const lock = await holdLock();
    const { logger, lines } = captureLogger();
    const started = Date.now();
    try {
      await expect(
        migrateWithRetry({ url, dir, logger, lockTimeoutMs: 1_000, retryMs: 2_000 }),
      ).rejects.toThrow(MigrationLockTimeoutError);
      // The budget, plus at most one more attempt (its lock wait and a backoff step).
      expect(Date.now() - started).toBeLessThan(2_000 + 1_000 + 5_000);
      expect(
        lines().some((l) => l.msg === 'migration failed; retry budget (DB_MIGRATE_RETRY_MS) used up'),
      ).toBe(true);
    } finally {
      await lock.release();
    }
  });

  it('when the database is not reachable, then migrateWithRetry retries with backoff within its budget and then fails', async () => {
    const closed = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const { logger, lines } = captureLogger();
    const started = Date.now();
    await expect(
      migrateWithRetry({ url: closed, dir, logger, connectTimeoutMs: 500, retryMs: 2_000 }),
    ).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(Date.now() - started).toBeLessThan(8_000);
    const retries = lines().filter((l) => l.msg === 'migration failed; retrying');
    expect(retries.map((l) => l.retry_in_ms)).toEqual([500, 1_000].slice(0, retries.length));
    expect(retries.length).toBeGreaterThanOrEqual(1);
  });
});
