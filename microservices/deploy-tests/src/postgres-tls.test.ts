// Managed PostgreSQL over TLS (issue 14, defect 1), against a real PostgreSQL started with ssl=on and a CA
// made here: the chart mounts the CA and points DB_SSL_ROOT_CERT at it; the service connects verify-full
// with it, and without it (or to a host name the certificate does not name) refuses at start-up with one
// clear line and exit 1. The server only accepts TLS (`hostssl` in pg_hba.conf), so a start-up that
// succeeds proves the connection was encrypted; a second server without TLS proves there is no fallback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBinaries, freePort, noPostgresVerdict } from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/deploy-paths.js';
import { presetValues, renderObjects } from './support/helm.js';
import { type K8sObject, one } from './support/manifests.js';
import { optionalTool, runCommand } from './support/tools.js';

// openssl makes the test CA; it comes with PostgreSQL's packages (postgresql-common → ssl-cert → openssl).
const openSsl = optionalTool('openssl', 'openssl');
const found = findPostgresBinaries();
if (!found && noPostgresVerdict() === 'fail') throw new Error('PostgreSQL binaries are missing and CI=true');
const bin = openSsl.available ? found : null;

const work = mkdtempSync(join(tmpdir(), 'pg-tls-'));
const pgUser = process.getuid?.() === 0 ? 'postgres' : null;
const idOf = (flag: string) =>
  Number(
    execFileSync('id', [flag, pgUser ?? ''])
      .toString()
      .trim(),
  );
const asServer = (cmd: string, args: string[]) =>
  pgUser
    ? execFileSync('runuser', ['-u', pgUser, '--', cmd, ...args], { stdio: 'pipe' })
    : execFileSync(cmd, args, { stdio: 'pipe' });
// The server runs as the postgres user (as root) and must reach its directory inside the work dir.
if (pgUser) chownSync(work, idOf('-u'), idOf('-g'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });

/** A CA, and a server certificate it signs for `localhost` only (not for 127.0.0.1). */
function makeCertificates() {
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${ca} test`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    );
  }
  writeFileSync(join(work, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
}

interface Server {
  port: number;
  stop(): void;
}

/** A throwaway cluster listening on localhost (IPv4 and IPv6), with TLS on or off. */
async function startServer(name: string, tls: boolean): Promise<Server> {
  const dir = join(work, name);
  mkdirSync(dir);
  if (pgUser) chownSync(dir, idOf('-u'), idOf('-g'));
  const data = join(dir, 'data');
  asServer(join(bin as string, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  const options = ['-c listen_addresses=localhost', `-k ${dir}`, '-c fsync=off'];
  if (tls) {
    for (const file of ['server.crt', 'server.key']) {
      const target = join(data, file);
      writeFileSync(target, execFileSync('cat', [join(work, file)]));
      if (pgUser) chownSync(target, idOf('-u'), idOf('-g'));
      chmodSync(target, 0o600);
    }
    options.push('-c ssl=on', '-c ssl_cert_file=server.crt', '-c ssl_key_file=server.key');
    // TLS or nothing: a plain-text connection is refused by the server itself.
    const hba = join(data, 'pg_hba.conf');
    writeFileSync(
      hba,
      'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n',
    );
    if (pgUser) chownSync(hba, idOf('-u'), idOf('-g'));
  }
  const port = await freePort();
  options.push(`-p ${port}`);
  const ctl = join(bin as string, 'pg_ctl');
  asServer(ctl, ['-D', data, '-o', options.join(' '), '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  return { port, stop: () => asServer(ctl, ['-D', data, '-m', 'immediate', '-w', 'stop']) };
}

interface Outcome {
  code: number | null;
  output: string;
  /** The process reached `listening` (then it was stopped). */
  listened: boolean;
}

const userServiceDir = join(repoRoot, 'microservices', 'user-service');

/**
 * The migrate Job's entry as the image runs it: the kit's one migrate bin, bundled into user-service's
 * dist/ by its build (the service's name and migrations come from that build, so there is no source entry).
 */
async function builtMigrate(): Promise<string[]> {
  const build = await runCommand('npm', ['run', 'build', '--workspace', '@microservices/user-service']);
  if (build.code !== 0) throw new Error(`npm run build failed (exit ${build.code}):\n${build.stderr}`);
  return [join(userServiceDir, 'dist', 'migrate.js')];
}

/** Runs a service entry (main from source, or a built one) until it listens, exits, or 40 s pass. */
async function runEntry(entry: 'main.ts' | string[], env: Record<string, string>): Promise<Outcome> {
  const port = String(await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    typeof entry === 'string' ? ['--import', 'tsx', join(userServiceDir, 'src', entry)] : entry,
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: port,
        SHUTDOWN_DELAY_MS: '0',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let listened = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!listened && /"msg":"user-service listening"/.test(output)) {
        listened = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, listened });
    });
  });
}

let tlsServer: Server | undefined;
let plainServer: Server | undefined;
let rendered: K8sObject[] = [];

/** user-service on an existing database Secret with postgresql.tls on, the CA taken from where `caFrom` says. */
const renderWithTls = (name: string, caFrom: string[]) =>
  renderObjects({
    name,
    release: 'user-service',
    namespace: 'shop',
    valuesFiles: [presetValues('user-service')],
    set: ['postgresql.existingSecret.name=users-db', 'postgresql.tls.enabled=true', ...caFrom],
  });

beforeAll(async () => {
  rendered = await renderWithTls('user-service with postgresql.tls', [
    'postgresql.tls.caFrom.secret.name=rds-ca',
    'postgresql.tls.caFrom.secret.key=global-bundle.pem',
  ]);
  if (!bin) return;
  makeCertificates();
  [tlsServer, plainServer] = await Promise.all([startServer('tls', true), startServer('plain', false)]);
});

afterAll(() => {
  tlsServer?.stop();
  plainServer?.stop();
  rmSync(work, { recursive: true, force: true });
});

const url = (host: string, port: number, query = '?sslmode=verify-full') =>
  `postgres://postgres@${host}:${port}/postgres${query}`;
const caFile = () => join(work, 'ca.crt');
/** The service's main.ts against `server` with `query` in its URL, trusting the test CA unless `env` says otherwise. */
const startAgainst = (server: Server, query?: string, env: Record<string, string> = {}) =>
  runEntry('main.ts', {
    DATABASE_URL: url('localhost', server.port, query),
    DB_SSL_ROOT_CERT: caFile(),
    ...env,
  });

describe('the chart mounts the database CA (postgresql.tls)', () => {
  it('mounts the CA from the Secret read-only and points DB_SSL_ROOT_CERT at it, in the pods and the migrate Job', () => {
    const pods = rendered
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
      .map((o) => (o.spec as { template: { spec: PodSpec } }).template.spec);
    expect(pods.length).toBe(2);
    for (const pod of pods) {
      const volume = pod.volumes.find((v) => v.name === 'postgresql-ca');
      expect(volume).toEqual({
        name: 'postgresql-ca',
        secret: { secretName: 'rds-ca', items: [{ key: 'global-bundle.pem', path: 'ca.crt' }] },
      });
      const container = pod.containers[0] as Container;
      expect(container.volumeMounts).toContainEqual({
        name: 'postgresql-ca',
        mountPath: '/etc/postgresql-ca',
        readOnly: true,
      });
      const env = [...(container.env ?? [])];
      const fromConfig = one(rendered, 'ConfigMap').data as Record<string, string>;
      const value =
        env.find((e) => e.name === 'DB_SSL_ROOT_CERT')?.value ??
        (container.envFrom ? fromConfig.DB_SSL_ROOT_CERT : undefined);
      expect(value).toBe('/etc/postgresql-ca/ca.crt');
    }
  });

  it('takes the CA from a ConfigMap too', async () => {
    const objects = await renderWithTls('user-service with a CA ConfigMap', [
      'postgresql.tls.caFrom.configMap.name=db-ca',
    ]);
    const pod = (one(objects, 'Deployment').spec as { template: { spec: PodSpec } }).template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'postgresql-ca',
      configMap: { name: 'db-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
  });
});

interface Container {
  env?: Array<{ name: string; value?: string }>;
  envFrom?: unknown[];
  volumeMounts: unknown[];
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string }>;
}

describe.skipIf(!bin)('the service against a real PostgreSQL with ssl=on', () => {
  it('connects verify-full with the CA: migrates and listens (the server accepts TLS only)', async () => {
    const server = tlsServer as Server;
    const result = await startAgainst(server);
    expect(result.output).toMatch(/"msg":"storage: PostgreSQL"/);
    expect(result.listened).toBe(true);
  });

  it('connects with the CA when the URL leaves sslmode out (the CA alone means verify-full)', async () => {
    const server = tlsServer as Server;
    const result = await startAgainst(server, '', { DB_MIGRATE_ON_START: 'false' });
    expect(result.listened).toBe(true);
  });

  it.each([
    [
      'without the CA',
      { DATABASE_URL: 'localhost' },
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN/,
    ],
    [
      'with another CA',
      { DATABASE_URL: 'localhost', DB_SSL_ROOT_CERT: 'other-ca.crt' },
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY/,
    ],
    [
      'with a host name the certificate does not name',
      { DATABASE_URL: '127.0.0.1', DB_SSL_ROOT_CERT: 'ca.crt' },
      /ERR_TLS_CERT_ALTNAME_INVALID/,
    ],
  ] as Array<[string, { DATABASE_URL: string; DB_SSL_ROOT_CERT?: string }, RegExp]>)(
    'refuses to start %s: one clear fatal line, exit 1, no retries',
    async (_name, setup, reason) => {
      const server = tlsServer as Server;
      for (const migrateOnStart of ['true', 'false']) {
        const env: Record<string, string> = {
          DATABASE_URL: url(setup.DATABASE_URL, server.port),
          DB_MIGRATE_ON_START: migrateOnStart,
        };
        if (setup.DB_SSL_ROOT_CERT) env.DB_SSL_ROOT_CERT = join(work, setup.DB_SSL_ROOT_CERT);
        const started = Date.now();
        const result = await runEntry('main.ts', env);
        expect(result.listened, result.output).toBe(false);
        expect(result.code).toBe(1);
        expect(result.output).toMatch(
          /"level":"fatal",.*"msg":"database refused at start-up: the database server's TLS certificate was refused/,
        );
        expect(result.output).toMatch(reason);
        expect(result.output).toMatch(/DB_SSL_ROOT_CERT \(chart: postgresql.tls\)/);
        expect(result.output).not.toMatch(/retrying/);
        expect(Date.now() - started).toBeLessThan(20_000);
      }
    },
  );

  it('the migrate Job entry refuses the same way: exit 1 with the reason', async () => {
    const server = tlsServer as Server;
    const migrate = await builtMigrate();
    const result = await runEntry(migrate, { DATABASE_URL: url('localhost', server.port) });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /"level":"fatal",.*"msg":"migration refused: the database server's TLS certificate was refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
    const ok = await runEntry(migrate, {
      DATABASE_URL: url('localhost', server.port),
      DB_SSL_ROOT_CERT: caFile(),
    });
    expect(ok.output).toMatch(/schema up to date|migrations applied/);
    expect(ok.code).toBe(0);
  });

  it('never falls back to plain text: a CA configured against a server without TLS refuses to start', async () => {
    const server = plainServer as Server;
    const result = await startAgainst(server, '');
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /does not accept TLS, and TLS is required: refusing to connect in plain text/,
    );
  });

  it('refuses a URL asking for less than verify-full alongside the CA', async () => {
    const server = tlsServer as Server;
    const result = await startAgainst(server, '?sslmode=prefer');
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/sslmode=prefer: use sslmode=verify-full/);
  });
});

// pg lets `ssl=` (and `sslnegotiation=direct`) in the URL replace the TLS object carrying the CA: ssl=0 was
// plain text, ssl=no-verify trusted any certificate, ssl=false crashed pg, ssl=true dropped the CA.
describe.skipIf(!bin)('the URL cannot override the CA (ssl= and sslnegotiation=)', () => {
  it.each([
    ['ssl=0', '?ssl=0', 'ssl=0'],
    ['ssl=false', '?ssl=false', 'ssl=false'],
    ['ssl=no-verify', '?ssl=no-verify', 'ssl=no-verify'],
    ['ssl=no-verify after ssl=true', '?ssl=true&ssl=no-verify', 'ssl=no-verify'],
    ['sslnegotiation=direct', '?sslnegotiation=direct', 'sslnegotiation=direct'],
  ])(
    'refuses %s at start-up: one clear fatal line, exit 1, against a TLS and a plain-text server',
    async (_name, query, named) => {
      for (const [server, ca] of [
        [tlsServer as Server, 'ca.crt'],
        [tlsServer as Server, 'other-ca.crt'],
        [plainServer as Server, 'ca.crt'],
      ] as const) {
        const result = await startAgainst(server, query, { DB_SSL_ROOT_CERT: join(work, ca) });
        expect(result.listened, result.output).toBe(false);
        expect(result.code, result.output).toBe(1);
        expect(result.output).toContain(`DB_SSL_ROOT_CERT is set, but DATABASE_URL asks for ${named}`);
        expect(result.output).not.toMatch(/TypeError|retrying/);
      }
    },
  );

  it.each([
    ['ssl=true', '?ssl=true'],
    ['ssl=1', '?ssl=1'],
    ['ssl=true with sslmode=verify-full', '?sslmode=verify-full&ssl=true'],
    ['sslnegotiation=postgres', '?sslnegotiation=postgres'],
  ])('connects with %s and the right CA (the parameter is dropped, the CA kept)', async (_name, query) => {
    const server = tlsServer as Server;
    const result = await startAgainst(server, query, { DB_MIGRATE_ON_START: 'false' });
    expect(result.listened, result.output).toBe(true);
  });

  it('keeps verifying with ssl=true: another CA is still refused', async () => {
    const server = tlsServer as Server;
    const result = await startAgainst(server, '?ssl=true', {
      DB_SSL_ROOT_CERT: join(work, 'other-ca.crt'),
      DB_MIGRATE_ON_START: 'false',
    });
    expect(result.listened).toBe(false);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /TLS certificate was refused \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY)/,
    );
  });
});

describe('an empty database Secret value (a managed database whose uri was never filled in)', () => {
  const emptySecret = {
    DATABASE_URL: '',
    DATABASE_REQUIRED: 'true',
    DB_SSL_ROOT_CERT: '/etc/postgresql-ca/ca.crt',
  };

  it('the migrate Job fails (exit 1) instead of passing green with nothing migrated, with or without the chart’s DATABASE_REQUIRED', async () => {
    const migrate = await builtMigrate();
    for (const env of [emptySecret, { DATABASE_URL: '' }]) {
      const result = await runEntry(migrate, env);
      expect(result.code, result.output).toBe(1);
      expect(result.output).toMatch(/DATABASE_URL: is empty or memory:\/\/|the migrate command needs/);
    }
  });

  it('the server refuses to start instead of serving from an in-memory store of its own', async () => {
    const result = await runEntry('main.ts', { ...emptySecret, DB_MIGRATE_ON_START: 'false' });
    expect(result.listened).toBe(false);
    expect(result.code).toBe(1);
    expect(result.output).toContain('DATABASE_URL: is empty or memory://, but DATABASE_REQUIRED=true');
  });

  it('the chart sets DATABASE_REQUIRED in the pods and the migrate Job whenever it gives them a database', () => {
    const deployment = one(rendered, 'Deployment');
    const job = rendered.find((o) => o.kind === 'Job' && JSON.stringify(o).includes('dist/migrate.js'));
    for (const workload of [deployment, job]) {
      expect(JSON.stringify(workload)).toContain('{"name":"DATABASE_REQUIRED","value":"true"}');
    }
  });
});
