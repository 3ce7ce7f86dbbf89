import { createTestDatabase, startTestPostgres, type TestPostgres } from '@microservices/service-kit/testing';
import pg from 'pg';

export interface BenchPostgres {
  /** Admin URL (database `postgres`). */
  adminUrl: string;
  /** Where it came from, for the report. */
  source: string;
  /** A fresh empty database (one per service start), dropped by `dispose`. */
  createDatabase(prefix: string): Promise<string>;
  /** Drops the databases and stops a cluster this run started. */
  dispose(): Promise<void>;
}

/**
 * BENCH_DATABASE_URL (an admin URL; the benchmark creates and drops its own databases there), else a
 * throwaway cluster from the machine's PostgreSQL binaries, else null (the PostgreSQL pass is skipped).
 */
export async function acquirePostgres(databaseUrl: string | undefined): Promise<BenchPostgres | null> {
  let server: TestPostgres | null = null;
  let adminUrl = databaseUrl;
  let source = 'BENCH_DATABASE_URL';
  if (!adminUrl) {
    server = await startTestPostgres();
    if (!server) return null;
    adminUrl = server.url;
    source = process.env.TEST_DATABASE_URL
      ? 'TEST_DATABASE_URL'
      : 'throwaway local cluster (fsync off, synchronous_commit on, max_connections 200)';
  }
  const url = adminUrl;
  const drops: Array<() => Promise<void>> = [];
  return {
    adminUrl: url,
    source,
    async createDatabase(prefix) {
      const db = await createTestDatabase(url, prefix);
      drops.push(db.drop);
      return db.url;
    },
    async dispose() {
      for (const drop of drops.splice(0)) await drop().catch(() => undefined);
      await server?.dispose();
    },
  };
}

/**
 * Inserts users straight into user-service's table until it holds `target` rows (one set-based INSERT:
 * 100k rows in a second or two instead of minutes through the API). Returns the row count afterwards.
 */
export async function fillUsersTable(databaseUrl: string, target: number, prefix: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const count = async () => Number((await client.query('SELECT count(*) AS n FROM users')).rows[0].n);
    const missing = target - (await count());
    if (missing > 0) {
      await client.query(
        `INSERT INTO users (id, name, email, age, created_at)
         SELECT gen_random_uuid()::text, 'Fill User', $1 || '-' || g || '@example.com', 30, now()
         FROM generate_series(1, $2::int) AS g`,
        [prefix, missing],
      );
    }
    return await count();
  } finally {
    await client.end();
  }
}
