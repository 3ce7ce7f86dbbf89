import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresInitSql } from './paths.js';
import { freePort, LOOPBACK } from './ports.js';
import { run } from './run.js';

/**
 * A throwaway PostgreSQL on 127.0.0.1, standing in for compose's `postgres` service (whose image cannot be
 * pulled here), with the same init script the official image would run: one database and role per service.
 */
export interface HostPostgres {
  port: number;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<version>/bin, or null. */
export function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export async function startHostPostgres(): Promise<HostPostgres> {
  const bin = postgresBinaries();
  if (!bin)
    throw new Error(
      'no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install -y postgresql)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'pair-compose-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: as root, its tools run as the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'], { timeoutMs: 5_000 })).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'], { timeoutMs: 5_000 })).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const pg = (tool: string, args: string[], timeoutMs = 60_000) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeoutMs })
      : run(join(bin, tool), args, { timeoutMs });
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=${LOOPBACK} -c fsync=off -c synchronous_commit=off`;
  await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // What the official image does with /docker-entrypoint-initdb.d/*.sql: psql as the superuser, stop on error.
    await run(
      join(bin, 'psql'),
      [
        '-v',
        'ON_ERROR_STOP=1',
        '-X',
        '-q',
        '-h',
        LOOPBACK,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-f',
        postgresInitSql,
      ],
      { timeoutMs: 30_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}
