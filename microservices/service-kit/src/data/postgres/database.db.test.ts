import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../base/logger.js';
import { createMetricsRegistry } from '../../base/metrics-registry.js';
import { captureLogger } from '../../testing/capture-logger.js';
import { createTestDatabase } from '../../testing/postgres-server.js';
import { Database, DatabaseBusyError } from './database.js';

const adminUrl = inject('pgAdminUrl');
let db: Database;
let drop: (() => Promise<void>) | undefined;

/** A Database on `url` with the test's settings, `overrides` applied. */
const databaseOn = (url: string, overrides: Partial<ConstructorParameters<typeof Database>[0]> = {}) =>
  new Database({
    url,
    applicationName: 'database-test',
    poolMax: 2,
    connectTimeoutMs: 2_000,
    statementTimeoutMs: 2_000,
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    ...overrides,
  });

beforeAll(async () => {
  if (!adminUrl) return;
  const created = await createTestDatabase(adminUrl, 'database');
  drop = created.drop;
  db = databaseOn(created.url);
});
afterAll(async () => {
  await db?.close();
  await drop?.();
});

describe.skipIf(!adminUrl)('Database.transaction', () => {
  it('when the connection dies inside a transaction, then the transaction rejects, the process keeps running, and the pool serves the next query on a fresh connection', async () => {
    // The server ends this very backend, as a restart or a network cut would; pg then emits 'error' on the
    // checked-out client, which would be an uncaught exception (vitest fails the run on one).
    const killed = db.transaction('test.kill', async (client) => {
      await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
    });
    await expect(killed).rejects.toThrow();
    for (let i = 0; i < 3; i += 1) await db.check();
    const { rows } = await db.query<{ n: number }>('test.after', 'SELECT 1 AS n');
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('when the work throws, then the transaction rolls back and the connection goes back to the pool', async () => {
    await db.query('test.setup', 'CREATE TABLE IF NOT EXISTS t (v int)');
    await expect(
      db.transaction('test.fail', async (client) => {
        await client.query('INSERT INTO t VALUES (1)');
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    const { rows } = await db.query<{ n: string }>('test.count', 'SELECT count(*) AS n FROM t');
    expect(rows).toEqual([{ n: '0' }]);
    expect(db.pool.totalCount).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!adminUrl)('Database.query', () => {
  it('prepares each operation once per connection, under the operation name', async () => {
    const created = await createTestDatabase(adminUrl as string, 'prepared');
    const single = databaseOn(created.url, { poolMax: 1 });
    try {
      for (let i = 0; i < 3; i += 1) {
        const { rows } = await single.query<{ n: number }>('test.prepared', 'SELECT $1::int AS n', [i]);
        expect(rows).toEqual([{ n: i }]);
      }
      // The pool's only connection holds it as a named prepared statement.
      const { rows } = await single.query<{ name: string; statement: string }>(
        'test.list_prepared',
        'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
      );
      expect(rows).toEqual([
        {
          name: 'test.list_prepared',
          statement: 'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
        },
        { name: 'test.prepared', statement: 'SELECT $1::int AS n' },
      ]);
    } finally {
      await single.close();
      await created.drop();
    }
  });
});

describe.skipIf(!adminUrl)('Database: a busy pool is not an outage', () => {
  it('when every pooled connection stays busy past DB_CONNECT_TIMEOUT_MS, then the next query is a 503 overloaded (Retry-After 1), logged as busy once, and the database is not reported unavailable', async () => {
    const { logger, lines } = captureLogger();
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const created = await createTestDatabase(adminUrl as string, 'database_busy');
    const busy = databaseOn(created.url, {
      poolMax: 1,
      connectTimeoutMs: 300,
      statementTimeoutMs: 5_000,
      logger,
      registry,
    });
    try {
      const holding = busy.query('test.hold', 'SELECT pg_sleep(1)');
      const waited = busy.query('test.waited', 'SELECT 1');
      await expect(waited).rejects.toBeInstanceOf(DatabaseBusyError);
      await expect(waited).rejects.toMatchObject({ status: 503, type: 'overloaded' });
      await holding;
      expect((await busy.query<{ n: number }>('test.after', 'SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
      const messages = lines().map((l) => String(l.msg));
      expect(messages.filter((m) => m.startsWith('database pool busy'))).toHaveLength(1);
      expect(messages.filter((m) => m.startsWith('database unavailable'))).toHaveLength(0);
      expect(await registry.metrics()).toMatch(
        /db_query_duration_seconds_count\{operation="test.waited",outcome="busy"\} 1/,
      );
    } finally {
      await busy.close();
      await created.drop();
    }
  });
});
