import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server (from the `db` project's global setup), or null: skip. */
    pgAdminUrl: string | null;
  }
}

/** A PostgreSQL server for tests: one from TEST_DATABASE_URL, or a throwaway cluster started here. */
export interface TestPostgres {
  /** Admin connection URL (database `postgres`). */
  url: string;
  /** Stops the server as a crash would (immediate), for outage tests; only for throwaway clusters. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops and deletes a throwaway cluster; leaves an external server alone. */
  dispose(): Promise<void>;
}

const SEARCH_DIRS = ['/usr/lib/postgresql'];

/** The directory holding pg_ctl/initdb: PATH first, then the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBinaries(): string | null {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return join(onPath, '..');
  for (const root of SEARCH_DIRS) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  return null;
}

/** PostgreSQL refuses to run as root; as root, run its tools as the `postgres` (or `nobody`) user. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0) return { name, uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run PostgreSQL');
}

function run(bin: string, args: string[], user: ReturnType<typeof serverUser>): void {
  const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A throwaway cluster in a temp dir on a random 127.0.0.1 port. fsync is off (only an OS crash could lose
 * data, and tests never crash the OS), but synchronous_commit stays on: outage tests stop the server
 * abruptly and assert that every acknowledged write survives. Returns null
 * when no PostgreSQL binaries exist; callers decide whether that skips (locally) or fails (CI).
 */
export async function startTestPostgres(): Promise<TestPostgres | null> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const noop = async () => {};
    return { url: external, stop: noop, start: noop, dispose: noop };
  }
  const bin = findPostgresBinaries();
  if (!bin) return null;
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'pair-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], user);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...args], user);
  const start = async () => pgCtl('-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start');
  const stop = async () => pgCtl('-m', 'immediate', '-w', 'stop');
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    dispose: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty database on the server at `adminUrl`, so test files never see each other's rows. */
export async function createTestDatabase(
  adminUrl: string,
  prefix = 'test',
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** What to do when there is no PostgreSQL: fail in CI (a skipped suite must not look green), skip loudly elsewhere. */
export function noPostgresVerdict(): 'fail' | 'skip' {
  return process.env.CI === 'true' ? 'fail' : 'skip';
}
