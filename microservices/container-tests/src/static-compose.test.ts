// Static checks of docker-compose.yml and the test override (no engine needed: `docker-compose config`
// resolves and validates the files). The engine tests (engine.test.ts) then bring the stack up for real.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseOrderServiceEnv } from '../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../user-service/src/env.js';
import { readDockerfile } from './support/dockerfiles.js';
import {
  composeFaultsFile,
  composeFile,
  composeTestFile,
  postgresInitSql,
  repoRoot,
  SERVICES,
} from './support/paths.js';
import { missingTools } from './support/prerequisites.js';
import { run } from './support/run.js';

const skipReason = await missingTools(
  ['docker-compose'],
  'apt-get install -y docker-compose; .ci/run does this',
);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string>; network?: string };
  environment?: Record<string, string>;
  ports?: Array<{ published: number | string; target: number | string; host_ip?: string }>;
  healthcheck?: { test: string[]; interval?: string; start_period?: string };
  depends_on?: Record<string, { condition: string }>;
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  init?: boolean;
  restart?: string;
  stop_grace_period?: string;
  profiles?: string[];
  network_mode?: string;
  volumes?: Array<string | { type: string; source: string; target: string }>;
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** What the test override needs from its caller; any values do for a static check. */
const TEST_VARIABLES = {
  PAIR_STANDIN_IMAGE: 'stand-in:test',
  PAIR_USER_IMAGE: 'user-service:test',
  PAIR_ORDER_IMAGE: 'order-service:test',
  PAIR_BUILD_IMAGE: 'node:24-bookworm-slim',
  PAIR_RUNTIME_IMAGE: 'gcr.io/distroless/nodejs24-debian13:nonroot',
  PAIR_USER_PORT: '18000',
  PAIR_ORDER_PORT: '18001',
  PAIR_PG_PORT: '15432',
};

async function compose(files: string[], args: string[], env: Record<string, string> = {}) {
  // A clean environment: the defaults in the file apply, not whatever this shell exports.
  return run(
    'docker-compose',
    [...files.flatMap((f) => ['-f', f]), '--project-directory', repoRoot, ...args],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, ...env },
      timeoutMs: 60_000,
    },
  );
}

const cache = new Map<string, Promise<ComposeConfig>>();
/** The fully resolved configuration (`docker-compose config`), observability profile included; computed once. */
const resolved = (files: string[], env: Record<string, string> = {}) => {
  const key = files.join('|');
  let config = cache.get(key);
  if (!config) {
    config = compose(files, ['--profile', 'observability', 'config'], env).then(
      (r) => parse(r.stdout) as ComposeConfig,
    );
    cache.set(key, config);
  }
  return config;
};

/** The fault injection variables a service sets (FAULTS_ENABLED, FAULT_MODE, …). */
const faultVariables = (svc: ComposeService | undefined) =>
  Object.fromEntries(Object.entries(svc?.environment ?? {}).filter(([name]) => /^FAULTS?_/.test(name)));

const seconds = (duration = '0s') => {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  return Number(match?.[1] ?? 0) * 60 + Number(match?.[2] ?? 0);
};

describe.skipIf(skipReason !== null)('docker-compose.yml', () => {
  const defaults = {
    'user-service': parseUserServiceEnv({}),
    'order-service': parseOrderServiceEnv({}),
  };

  it('passes `docker-compose config -q` on its own, with the observability profile, the faults file and the test override', async () => {
    await compose([composeFile], ['config', '-q']);
    await compose([composeFile], ['--profile', 'observability', 'config', '-q']);
    await compose([composeFile, composeFaultsFile], ['--profile', 'observability', 'config', '-q']);
    await compose([composeFile, composeTestFile], ['config', '-q'], TEST_VARIABLES);
    await compose([composeFile, composeTestFile, composeFaultsFile], ['config', '-q'], TEST_VARIABLES);
    // The override refuses to run with a variable missing rather than with an empty value.
    const missing = await run('docker-compose', ['-f', composeFile, '-f', composeTestFile, 'config', '-q'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH },
      timeoutMs: 60_000,
      allowFailure: true,
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/PAIR_\w+/);
  });

  it('uses the Compose Specification both Compose v2 and docker-compose 1.29 accept', () => {
    const raw = parse(readFileSync(composeFile, 'utf8')) as Record<string, unknown>;
    expect(raw.version).toBeUndefined(); // v2 warns that `version` is obsolete; 1.27+ reads the spec without it
    expect(readFileSync(composeFile, 'utf8')).not.toMatch(/^\s*develop:/m);
  });

  it('runs postgres, both services and, under the observability profile only, Prometheus and Grafana', async () => {
    const config = await resolved([composeFile]);
    expect(Object.keys(config.services).sort()).toEqual(
      ['grafana', 'order-service', 'postgres', 'prometheus', 'user-service'].sort(),
    );
    for (const name of ['postgres', ...SERVICES])
      expect(config.services[name]?.profiles, name).toBeUndefined();
    for (const name of ['prometheus', 'grafana'])
      expect(config.services[name]?.profiles, name).toEqual(['observability']);
  });

  it.each(SERVICES)(
    '%s: port, healthcheck and hardening agree with the service and its image',
    async (service) => {
      const config = await resolved([composeFile]);
      const svc = config.services[service];
      const port = defaults[service].PORT;
      expect(svc?.environment?.PORT).toBe(String(port));
      expect(svc?.ports?.map((p) => [Number(p.published), Number(p.target)])).toEqual([[port, port]]);
      // The container healthcheck is the image's own (the same command as the Dockerfile's HEALTHCHECK).
      const imageHealthcheck = readDockerfile()
        .stages.at(-1)
        ?.instructions.find((i) => i.keyword === 'HEALTHCHECK')
        ?.args.replace(/^.*?CMD\s+/, '');
      expect(svc?.healthcheck?.test).toEqual(['CMD', ...JSON.parse(imageHealthcheck ?? '[]')]);
      expect(svc?.build?.context).toBe(repoRoot.replace(/\/$/, ''));
      // The one Dockerfile, told which service this is and the port it listens on.
      expect(svc?.build?.dockerfile).toBe('microservices/Dockerfile');
      expect(existsSync(`${repoRoot}/${svc?.build?.dockerfile}`)).toBe(true);
      expect(Object.keys(svc?.build?.args ?? {}).sort()).toEqual(['COMMIT', 'PORT', 'SERVICE', 'VERSION']);
      expect(svc?.build?.args?.SERVICE).toBe(service);
      expect(svc?.build?.args?.PORT).toBe(String(port));
      expect(svc?.user).toBe('65532:65532');
      expect(svc?.read_only).toBe(true);
      expect(svc?.tmpfs).toEqual(['/tmp']);
      expect(svc?.init).toBe(true);
      expect(svc?.restart).toBe('unless-stopped');
      // Long enough for the service's own drain: SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS as compose sets them.
      const env =
        service === 'user-service'
          ? parseUserServiceEnv(svc?.environment ?? {})
          : parseOrderServiceEnv(svc?.environment ?? {});
      expect(seconds(svc?.stop_grace_period) * 1000).toBeGreaterThan(
        env.SHUTDOWN_DELAY_MS + env.SHUTDOWN_TIMEOUT_MS,
      );
      expect(svc?.depends_on?.postgres?.condition).toBe('service_healthy');
    },
  );

  it('leaves fault injection off: no service sets FAULTS_ENABLED or a FAULT_* variable', async () => {
    const config = await resolved([composeFile]);
    for (const [name, svc] of Object.entries(config.services)) expect(faultVariables(svc), name).toEqual({});
    expect(parseUserServiceEnv(config.services['user-service']?.environment ?? {}).FAULTS_ENABLED).toBe(
      false,
    );
    expect(parseOrderServiceEnv(config.services['order-service']?.environment ?? {}).FAULTS_ENABLED).toBe(
      false,
    );
  });

  it('every environment variable compose sets is one the service accepts (parsed by its own env schema)', async () => {
    const config = await resolved([composeFile]);
    expect(() => parseUserServiceEnv(config.services['user-service']?.environment ?? {})).not.toThrow();
    expect(() => parseOrderServiceEnv(config.services['order-service']?.environment ?? {})).not.toThrow();
  });

  it('order-service reaches user-service by its service name and port, once user-service is healthy', async () => {
    const config = await resolved([composeFile]);
    const order = config.services['order-service'];
    const target = new URL(parseOrderServiceEnv(order?.environment ?? {}).USER_SERVICE_URL);
    expect(target.hostname).toBe('user-service');
    expect(Number(target.port)).toBe(defaults['user-service'].PORT);
    expect(order?.depends_on?.['user-service']?.condition).toBe('service_healthy');
  });

  it.each([
    ['user-service', 'users', 'user_service'],
    ['order-service', 'orders', 'order_service'],
  ] as const)(
    '%s: DATABASE_URL names its own database and role, which the postgres init script creates',
    async (service, database, role) => {
      const config = await resolved([composeFile]);
      const env = config.services[service]?.environment ?? {};
      const parsed = service === 'user-service' ? parseUserServiceEnv(env) : parseOrderServiceEnv(env);
      expect(parsed.DATABASE_URL.kind).toBe('postgres');
      const url = new URL(env.DATABASE_URL ?? '');
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(url.pathname).toBe(`/${database}`);
      expect(url.username).toBe(role);
      const sql = readFileSync(postgresInitSql, 'utf8');
      expect(sql).toContain(`CREATE ROLE ${role} LOGIN PASSWORD '${decodeURIComponent(url.password)}';`);
      expect(sql).toContain(`CREATE DATABASE ${database} OWNER ${role};`);
    },
  );

  it('postgres keeps its data in a named volume, runs the init script once, and reports healthy over TCP', async () => {
    const config = await resolved([composeFile]);
    const postgres = config.services.postgres;
    const volumes = (postgres?.volumes ?? []).map((v) =>
      typeof v === 'string' ? v : `${v.source}:${v.target}`,
    );
    expect(volumes.some((v) => /^postgres-data:\/var\/lib\/postgresql\/data\b/.test(v))).toBe(true);
    expect(volumes.some((v) => v.startsWith(`${postgresInitSql}:/docker-entrypoint-initdb.d/`))).toBe(true);
    expect(Object.keys(config.volumes ?? {})).toContain('postgres-data');
    expect(postgres?.healthcheck?.test).toContain('pg_isready');
    expect(postgres?.healthcheck?.test.join(' ')).toContain('--host=127.0.0.1');
  });

  it('every bind-mounted file or folder exists in the repository', async () => {
    const config = await resolved([composeFile]);
    for (const [name, svc] of Object.entries(config.services)) {
      for (const volume of svc.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
        if (source?.startsWith('/')) expect(existsSync(source), `${name}: ${source}`).toBe(true);
      }
    }
  });
});

describe.skipIf(skipReason !== null)(
  'microservices/compose/docker-compose.faults.yml (fault injection for the resilience demos)',
  () => {
    it('turns fault injection on in both services, in mode normal, as their own env parsers read it', async () => {
      const config = await resolved([composeFile, composeFaultsFile]);
      for (const service of SERVICES) {
        const env = config.services[service]?.environment ?? {};
        expect(faultVariables(config.services[service]), service).toEqual({
          FAULTS_ENABLED: 'true',
          FAULT_MODE: 'normal',
        });
        const parsed = service === 'user-service' ? parseUserServiceEnv(env) : parseOrderServiceEnv(env);
        expect(parsed).toMatchObject({ FAULTS_ENABLED: true, FAULT_MODE: 'normal' });
      }
      for (const name of ['postgres', 'prometheus', 'grafana'])
        expect(faultVariables(config.services[name]), name).toEqual({});
    });

    it('changes nothing else: without its FAULT* variables the merged config is the default one', async () => {
      const [plain, withFaults] = await Promise.all([
        resolved([composeFile]),
        resolved([composeFile, composeFaultsFile]),
      ]);
      // Merging several files makes docker-compose 1.29 reorder the volume lists; their order means nothing.
      const normalised = (config: ComposeConfig) => {
        const copy = structuredClone(config);
        for (const svc of Object.values(copy.services)) {
          for (const name of Object.keys(faultVariables(svc))) delete svc.environment?.[name];
          svc.volumes?.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        }
        return copy;
      };
      expect(normalised(withFaults)).toEqual(normalised(plain));
      // So the networking is today's: the default network and published ports, no host networking.
      for (const [name, svc] of Object.entries(withFaults.services))
        expect(svc.network_mode, name).toBeUndefined();
    });

    it('keeps every service on the host network under the test override too', async () => {
      const config = await resolved([composeFile, composeTestFile, composeFaultsFile], TEST_VARIABLES);
      expect(Object.keys(config.services)).toHaveLength(5);
      for (const [name, svc] of Object.entries(config.services)) expect(svc.network_mode, name).toBe('host');
      for (const service of SERVICES)
        expect(config.services[service]?.environment).toMatchObject({
          FAULTS_ENABLED: 'true',
          HOST: '127.0.0.1',
        });
    });
  },
);

describe.skipIf(skipReason !== null)(
  'microservices/compose/docker-compose.test.yml (the override the engine tests use)',
  () => {
    it('puts every service on the host network, test ports, and stand-in images', async () => {
      const config = await resolved([composeFile, composeTestFile], TEST_VARIABLES);
      // All of them, profiles included: one left on the default network makes compose create a bridge network.
      expect(Object.keys(config.services)).toHaveLength(5);
      for (const name of Object.keys(config.services)) {
        expect(config.services[name]?.network_mode, name).toBe('host');
      }
      const user = config.services['user-service']?.environment ?? {};
      const order = config.services['order-service']?.environment ?? {};
      expect(user.PORT).toBe(TEST_VARIABLES.PAIR_USER_PORT);
      expect(order.PORT).toBe(TEST_VARIABLES.PAIR_ORDER_PORT);
      // Listening on 127.0.0.1 only: on the host network, 0.0.0.0 would mean every interface of the machine.
      expect(user.HOST).toBe('127.0.0.1');
      expect(order.HOST).toBe('127.0.0.1');
      expect(order.USER_SERVICE_URL).toBe(`http://127.0.0.1:${TEST_VARIABLES.PAIR_USER_PORT}`);
      for (const [service, url] of [
        ['user-service', user.DATABASE_URL],
        ['order-service', order.DATABASE_URL],
      ]) {
        expect(new URL(url ?? '').host, service).toBe(`127.0.0.1:${TEST_VARIABLES.PAIR_PG_PORT}`);
      }
      for (const service of SERVICES) {
        // The override adds the stand-ins' names to the build args; the service's own are kept.
        expect(config.services[service]?.build?.args).toMatchObject({
          SERVICE: service,
          BUILD_IMAGE: TEST_VARIABLES.PAIR_BUILD_IMAGE,
          RUNTIME_IMAGE: TEST_VARIABLES.PAIR_RUNTIME_IMAGE,
        });
        expect(config.services[service]?.build?.network).toBe('host');
        // The hardening of the real file is kept.
        expect(config.services[service]?.read_only).toBe(true);
        expect(config.services[service]?.user).toBe('65532:65532');
      }
      expect(config.services.postgres?.image).toBe(TEST_VARIABLES.PAIR_STANDIN_IMAGE);
    });
  },
);
