// The images and the compose file, built and run for real on a private Docker engine (see support/docker-engine.ts).
// Registries are unreachable here, so the base images are local stand-ins built from Debian packages and
// the official Node binary (support/stand-ins.ts), tagged with the names the Dockerfile uses. Every
// container runs on the host network and every request goes to 127.0.0.1.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pollUntil } from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboardQueries, exposedMetricNames, metricNamesIn } from './support/dashboard.js';
import { type DockerEngine, engineUnavailableReason, startEngine } from './support/docker-engine.js';
import { baseImages, buildArgsOf, withoutDigest } from './support/dockerfiles.js';
import { type HostPostgres, postgresBinaries, startHostPostgres } from './support/host-postgres.js';
import { exerciseSeedRequests, request, waitUntilReady } from './support/http.js';
import {
  composeFile,
  composeTestFile,
  dockerfilePath,
  repoRoot,
  SERVICES,
  type ServiceName,
  serviceDir,
} from './support/paths.js';
import { freePorts, LOOPBACK } from './support/ports.js';
import { skipOrFail } from './support/prerequisites.js';
import { mib, RunReport, seconds } from './support/report.js';
import { prepareStandIns } from './support/stand-ins.js';

const unavailable =
  (await engineUnavailableReason()) ??
  (postgresBinaries()
    ? null
    : 'no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install -y postgresql)');
const skipReason = unavailable ? skipOrFail(unavailable) : null;

const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const VERSION = `0.0.0-ct.${runId}`;
const COMMIT = `ct-${runId}`;
const SOURCE = 'https://example.invalid/gitops-service-pair';
const HEALTHCHECK = ['CMD', '/nodejs/bin/node', 'dist/healthcheck.js'];
const DATABASE: Record<ServiceName, { role: string; name: string }> = {
  'user-service': { role: 'user_service', name: 'users' },
  'order-service': { role: 'order_service', name: 'orders' },
};
/** The payload is the bundle: a few MiB. Far more means something (node_modules, sources) slipped in. */
const MAX_PAYLOAD_MIB = 15;
/** The build context is a few hundred KiB with the .dockerignore allowlist; node_modules alone is hundreds of MiB. */
const MAX_CONTEXT_MIB = 5;

interface ContainerState {
  Status: string;
  ExitCode: number;
  StartedAt: string;
  Health?: { Status: string; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
}

describe.skipIf(skipReason !== null)('images and compose on a private Docker engine', () => {
  const report = new RunReport();
  const runStarted = performance.now();
  const bases = baseImages();
  const standIn = { build: withoutDigest(bases.build), runtime: withoutDigest(bases.runtime) };
  const imageTag = (service: ServiceName) => `pair-test/${service}:${runId}`;
  let engine: DockerEngine;
  let pg: HostPostgres;

  const docker = (args: string[], timeoutMs = 120_000) => engine.docker(args, { timeoutMs });
  const inspect = async <T>(id: string, format = '{{json .}}') =>
    JSON.parse((await docker(['inspect', '--format', format, id])).stdout) as T;
  const databaseUrl = (service: ServiceName) =>
    `postgres://${DATABASE[service].role}:${DATABASE[service].role}@${LOOPBACK}:${pg.port}/${DATABASE[service].name}`;

  /** `docker run` on the host network as the image's user, read-only, /tmp on tmpfs; resolves when ready. */
  async function runContainer(service: ServiceName, name: string, env: Record<string, string>) {
    const started = performance.now();
    await docker([
      'run',
      '--detach',
      `--name=${name}`,
      '--network=host',
      '--user=65532:65532',
      '--read-only',
      '--tmpfs=/tmp',
      // The image's HEALTHCHECK command, polled every second instead of every 10 s to keep the test short.
      '--health-interval=1s',
      ...Object.entries({ HOST: LOOPBACK, DATABASE_URL: databaseUrl(service), ...env }).flatMap(([k, v]) => [
        '--env',
        `${k}=${v}`,
      ]),
      imageTag(service),
    ]);
    const url = `http://${LOOPBACK}:${env.PORT}`;
    try {
      await waitUntilReady(url, 60_000);
    } catch (err) {
      const logs = await engine.docker(['logs', name], { allowFailure: true });
      throw new Error(`${(err as Error).message}\n--- ${name} logs ---\n${logs.stdout}${logs.stderr}`);
    }
    return { url, readyMs: Math.round(performance.now() - started) };
  }

  beforeAll(async () => {
    engine = await startEngine();
    report.add('engine', 'Docker engine (private dockerd)', engine.version);
    pg = await startHostPostgres();

    const nodeMajor = /^node:(\d+)-/.exec(standIn.build)?.[1];
    expect(standIn.runtime).toContain(`nodejs${nodeMajor}-`);
    const standIns = await prepareStandIns(engine, {
      buildTag: standIn.build,
      runtimeTag: standIn.runtime,
      nodeMajor: nodeMajor ?? '',
    });
    report.add('standin.node', 'stand-ins: Node / npm', `${standIns.nodeVersion} / ${standIns.npmVersion}`);
    report.add(
      'standin.cache',
      'stand-ins: cache (debootstrap rootfs / assembled images)',
      `${standIns.rootfsCached ? 'hit' : 'miss'} / ${standIns.imagesCached ? 'hit' : 'miss'}`,
    );
    report.add(
      'standin.seconds',
      'stand-ins: npm pack + debootstrap + assemble + import',
      `${seconds(standIns.ms.pack)} + ${seconds(standIns.ms.debootstrap)} + ${seconds(standIns.ms.assemble)} + ${seconds(standIns.ms.import)}`,
      's',
    );
  });

  afterAll(async () => {
    const stopping = performance.now();
    await engine?.stop();
    report.add(
      'engine.stop',
      'engine stop + deleting its vfs data',
      seconds(performance.now() - stopping),
      's',
    );
    await pg?.stop();
    report.add('total', 'engine tests, total', seconds(performance.now() - runStarted), 's');
    report.print('Container test numbers');
  });

  /** `docker build` of the one Dockerfile from the stand-ins, with pulls disabled. */
  const build = (
    buildArgs: Record<string, string | number>,
    options: { tag?: string; allowFailure?: boolean } = {},
  ) =>
    engine.docker(
      [
        'build',
        '--pull=false',
        // npm ci in the build stage reaches the registry through the host (there is no bridge network).
        '--network=host',
        `--file=${dockerfilePath}`,
        `--build-arg=BUILD_IMAGE=${standIn.build}`,
        `--build-arg=RUNTIME_IMAGE=${standIn.runtime}`,
        ...Object.entries(buildArgs).map(([k, v]) => `--build-arg=${k}=${v}`),
        ...(options.tag ? [`--tag=${options.tag}`] : []),
        repoRoot,
      ],
      { timeoutMs: 900_000, allowFailure: options.allowFailure === true },
    );

  it('refuses to build without SERVICE, saying which build arg is missing, before copying anything', async () => {
    const res = await build({ PORT: 8000 }, { allowFailure: true });
    expect(res.code).not.toBe(0);
    expect(`${res.stdout}${res.stderr}`).toMatch(/build arg SERVICE: give the service directory/);
    expect(res.stdout).not.toMatch(/npm ci/);
  });

  describe('images', () => {
    const builds = new Map<ServiceName, { contextBytes: number; ms: number }>();

    beforeAll(async () => {
      // Both from microservices/Dockerfile, one after the other, so each build time is the image's own
      // (two cores; vfs copies every layer).
      for (const service of SERVICES) {
        const res = await build(
          { ...buildArgsOf(service), VERSION, COMMIT, SOURCE },
          { tag: imageTag(service) },
        );
        const context = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(res.stdout);
        const factor = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[context?.[2] ?? 'B'] ?? 1;
        builds.set(service, { contextBytes: Number(context?.[1] ?? Number.NaN) * factor, ms: res.ms });
        report.add(`build.${service}`, `${service}: image build (cold layer cache)`, seconds(res.ms), 's');
      }
    });

    it.each(SERVICES)(
      '%s: builds with pulls disabled, from a build context that .dockerignore keeps small',
      (service) => {
        const build = builds.get(service);
        expect(build?.contextBytes).toBeGreaterThan(0);
        expect(build?.contextBytes).toBeLessThan(MAX_CONTEXT_MIB * 1024 * 1024);
        report.add(
          `context.${service}`,
          `${service}: build context`,
          Math.round((build?.contextBytes ?? 0) / 1024),
          'KiB',
        );
      },
    );

    it.each(SERVICES)(
      '%s: runs node on dist/main.js as 65532, with its port, production env, healthcheck and OCI labels',
      async (service) => {
        const config = await inspect<{
          User: string;
          Cmd: string[];
          Entrypoint: string[];
          WorkingDir: string;
          ExposedPorts: Record<string, unknown>;
          Env: string[];
          Healthcheck: { Test: string[] };
          Labels: Record<string, string>;
          StopSignal: string;
        }>(imageTag(service), '{{json .Config}}');
        expect(config.User).toBe('65532:65532');
        expect(config.Entrypoint).toEqual(['/nodejs/bin/node']);
        expect(config.Cmd).toEqual(['dist/main.js']);
        expect(config.WorkingDir).toBe('/app');
        expect(Object.keys(config.ExposedPorts)).toEqual([`${buildArgsOf(service).PORT}/tcp`]);
        expect(config.Env).toEqual(
          expect.arrayContaining([
            'NODE_ENV=production',
            `PORT=${buildArgsOf(service).PORT}`,
            `APP_VERSION=${VERSION}`,
            `GIT_COMMIT=${COMMIT}`,
          ]),
        );
        expect(config.Healthcheck.Test).toEqual(HEALTHCHECK);
        expect(config.StopSignal).toBe('SIGTERM');
        expect(config.Labels).toMatchObject({
          'org.opencontainers.image.title': service,
          'org.opencontainers.image.source': SOURCE,
          'org.opencontainers.image.revision': COMMIT,
          'org.opencontainers.image.version': VERSION,
        });
      },
    );

    it.each(SERVICES)(
      '%s: the runtime payload is the bundle alone — no node_modules, sources, tests or maps',
      async (service) => {
        const id = (await docker(['create', imageTag(service)])).stdout.trim();
        const out = mkdtempSync(join(tmpdir(), 'pair-payload-'));
        try {
          await docker(['cp', `${id}:/app`, out]);
          const files: Array<{ path: string; size: number }> = [];
          const walk = (dir: string) => {
            for (const entry of readdirSync(dir, { withFileTypes: true })) {
              const path = join(dir, entry.name);
              if (entry.isDirectory()) walk(path);
              else files.push({ path: relative(join(out, 'app'), path), size: statSync(path).size });
            }
          };
          walk(join(out, 'app'));
          const paths = files.map((f) => f.path);
          expect(new Set(paths.map((p) => p.split('/')[0]))).toEqual(new Set(['dist', 'package.json']));
          for (const entry of [
            'dist/main.js',
            'dist/healthcheck.js',
            'dist/migrate.js',
            'dist/swagger-ui/swagger-ui-bundle.js',
          ]) {
            expect(paths).toContain(entry);
          }
          expect(paths.filter((p) => /node_modules|\.ts$|\.map$|\.test\./.test(p))).toEqual([]);
          const payload = files.reduce((sum, f) => sum + f.size, 0);
          expect(payload).toBeLessThan(MAX_PAYLOAD_MIB * 1024 * 1024);

          const size = async (image: string) =>
            Number((await docker(['image', 'inspect', '--format', '{{.Size}}', image])).stdout);
          const [imageBytes, baseBytes] = await Promise.all([size(imageTag(service)), size(standIn.runtime)]);
          report.add(
            `payload.${service}`,
            `${service}: runtime payload (/app: dist + package.json)`,
            mib(payload),
            'MiB',
          );
          report.add(
            `image.${service}`,
            `${service}: image size (stand-in base + payload)`,
            mib(imageBytes),
            'MiB',
          );
          report.add('image.base', 'runtime base stand-in size', mib(baseBytes), 'MiB');
        } finally {
          rmSync(out, { recursive: true, force: true });
          await docker(['rm', id]);
        }
      },
    );

    it.each(SERVICES)(
      "%s: `dist/migrate.js` (the kit's one migrate bin) applies this service's migrations, as the Job runs it",
      async (service) => {
        // What the chart's migration Job runs: the image, the command dist/migrate.js, the database env only.
        // Before the services start, so the database is empty and every migration is this run's.
        const migrate = () =>
          docker([
            'run',
            '--rm',
            '--network=host',
            '--user=65532:65532',
            '--read-only',
            '--tmpfs=/tmp',
            '--env',
            `DATABASE_URL=${databaseUrl(service)}`,
            '--env',
            'DB_MIGRATE_RETRY_MS=0',
            imageTag(service),
            'dist/migrate.js',
          ]);
        const files = readdirSync(join(serviceDir(service), 'migrations'))
          .filter((f) => f.endsWith('.sql'))
          .map((f) => f.replace(/\.sql$/, ''))
          .sort();
        expect(files.length).toBeGreaterThan(0);
        const lines = (text: string) =>
          text
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { service?: string; msg?: string; applied?: string[] });
        const first = lines((await migrate()).stdout);
        const applied = first.find((l) => l.msg === 'migrations applied');
        expect(applied?.applied, JSON.stringify(first)).toEqual(files);
        // The bin knows which service it was built into: every line names it.
        expect(new Set(first.map((l) => l.service))).toEqual(new Set([service]));
        const again = lines((await migrate()).stdout);
        expect(again.some((l) => l.msg === 'schema up to date')).toBe(true);
      },
    );

    describe('running both images', () => {
      const name = (service: ServiceName) => `pair-run-${service}-${runId}`;
      const urls = new Map<ServiceName, string>();

      beforeAll(async () => {
        const [userPort, orderPort] = await freePorts(2);
        const user = await runContainer('user-service', name('user-service'), { PORT: String(userPort) });
        urls.set('user-service', user.url);
        report.add(
          'ready.user-service',
          'user-service: docker run → first 200 on /health/ready',
          user.readyMs,
          'ms',
        );
        const order = await runContainer('order-service', name('order-service'), {
          PORT: String(orderPort),
          USER_SERVICE_URL: user.url,
        });
        urls.set('order-service', order.url);
        report.add(
          'ready.order-service',
          'order-service: docker run → first 200 on /health/ready',
          order.readyMs,
          'ms',
        );
      });

      afterAll(async () => {
        await engine.docker(['rm', '--force', name('user-service'), name('order-service')], {
          allowFailure: true,
        });
      });

      it('serve the seed requests end to end over 127.0.0.1 (user, order for it, 404s for an unknown user)', async () => {
        await exerciseSeedRequests(urls.get('user-service') ?? '', urls.get('order-service') ?? '');
      });

      it.each(SERVICES)('%s: the image HEALTHCHECK reports healthy', async (service) => {
        const state = await pollUntil(
          `${service} to be healthy`,
          async () => {
            const s = await inspect<ContainerState>(name(service), '{{json .State}}');
            if (s.Health?.Status === 'unhealthy')
              throw new Error(`unhealthy: ${JSON.stringify(s.Health.Log.at(-1))}`);
            return s.Health?.Status === 'healthy' ? s : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        expect(state.Health?.Log.at(-1)?.ExitCode).toBe(0);
      });

      it.each(SERVICES)('%s: GET /version reports the VERSION and COMMIT build args', async (service) => {
        const res = await request('GET', `${urls.get(service)}/version`);
        expect(res.body).toEqual({ service, version: VERSION, commit: COMMIT });
      });

      it.each(SERVICES)(
        '%s: runs as 65532 on a read-only root filesystem where only /tmp is writable',
        async (service) => {
          const host = await inspect<{ ReadonlyRootfs: boolean; NetworkMode: string }>(
            name(service),
            '{{json .HostConfig}}',
          );
          expect(host).toMatchObject({ ReadonlyRootfs: true, NetworkMode: 'host' });
          const probe = [
            "const fs = require('node:fs');",
            'const tryWrite = (p) => { try { fs.writeFileSync(p, "x"); return "ok"; } catch (e) { return e.code; } };',
            // /home/nonroot belongs to 65532: only a read-only root filesystem stops this write.
            'console.log(JSON.stringify({ uid: process.getuid(), home: tryWrite("/home/nonroot/probe"), app: tryWrite("/app/probe"), tmp: tryWrite("/tmp/probe") }));',
          ].join(' ');
          const res = await docker(['exec', name(service), '/nodejs/bin/node', '-e', probe]);
          expect(JSON.parse(res.stdout)).toEqual({ uid: 65532, home: 'EROFS', app: 'EROFS', tmp: 'ok' });
        },
      );

      it('export every metric the Grafana dashboard queries', async () => {
        const expositions = await Promise.all(
          SERVICES.map(async (s) => (await request('GET', `${urls.get(s)}/metrics`)).text),
        );
        const exported = new Set(expositions.flatMap((e) => [...exposedMetricNames(e)]));
        const missing = dashboardQueries().flatMap((q) =>
          metricNamesIn(q.expr).filter((n) => !exported.has(n)),
        );
        expect(missing).toEqual([]);
      });
    });

    it.each(SERVICES)(
      '%s: `docker stop` drains and exits 0 within the default 10 s grace period, logging it',
      async (service) => {
        // Defaults as shipped (SHUTDOWN_DELAY_MS 5 s, then drain): the image's own shutdown must fit docker's default.
        const container = `pair-stop-${service}-${runId}`;
        const [port, nobody] = await freePorts(2);
        try {
          await runContainer(service, container, {
            PORT: String(port),
            USER_SERVICE_URL: `http://${LOOPBACK}:${nobody}`,
          });
          const stop = await docker(['stop', container], 30_000);
          const state = await inspect<ContainerState>(container, '{{json .State}}');
          expect(state.ExitCode).toBe(0);
          expect(stop.ms).toBeLessThan(10_000);
          const logs = await docker(['logs', container]);
          expect(logs.stdout).toMatch(/"msg":"shutdown complete"/);
          report.add(
            `stop.${service}`,
            `${service}: docker stop → exit 0 (SHUTDOWN_DELAY_MS 5 s default)`,
            seconds(stop.ms),
            's',
          );
        } finally {
          await engine.docker(['rm', '--force', container], { allowFailure: true });
        }
      },
    );
  });

  describe('docker compose (docker-compose.yml + microservices/compose/docker-compose.test.yml)', () => {
    const project = `pair${runId}`;
    const ports = { user: 0, order: 0 };
    let composeEnv: Record<string, string>;
    let files = ['-f', composeFile, '-f', composeTestFile];
    let resolvedDir: string | undefined;
    const compose = (args: string[], timeoutMs = 300_000) =>
      engine.compose([...files, '-p', project, '--project-directory', repoRoot, ...args], {
        env: composeEnv,
        timeoutMs,
      });
    const containerOf = async (service: string) => (await compose(['ps', '-q', service])).stdout.trim();

    beforeAll(async () => {
      [ports.user, ports.order] = (await freePorts(2)) as [number, number];
      composeEnv = {
        PAIR_STANDIN_IMAGE: standIn.runtime,
        PAIR_BUILD_IMAGE: standIn.build,
        PAIR_RUNTIME_IMAGE: standIn.runtime,
        PAIR_USER_IMAGE: `pair-compose/user-service:${runId}`,
        PAIR_ORDER_IMAGE: `pair-compose/order-service:${runId}`,
        PAIR_USER_PORT: String(ports.user),
        PAIR_ORDER_PORT: String(ports.order),
        PAIR_PG_PORT: String(pg.port),
        APP_VERSION: VERSION,
        GIT_COMMIT: COMMIT,
      };
      // docker-compose 1.29's Python client refuses published ports on a host-network container (Compose v2
      // discards them with a warning), and an override cannot remove a list in v1. So the two files are merged
      // by docker-compose itself (`config`), the host-network services' `ports` dropped, and that is brought up.
      const merged = parse((await compose(['config'])).stdout) as {
        services: Record<string, Record<string, unknown>>;
      };
      for (const service of Object.values(merged.services)) {
        if (service.network_mode === 'host') delete service.ports;
      }
      resolvedDir = mkdtempSync(join(tmpdir(), 'pair-compose-'));
      const resolvedFile = join(resolvedDir, 'docker-compose.resolved.yml');
      writeFileSync(resolvedFile, stringify(merged));
      files = ['-f', resolvedFile];

      const build = await compose(['build'], 900_000);
      // A full reuse leaves out only ARG/FROM lines and the metadata after the SOURCE label (compose passes none).
      const steps = build.stdout.match(/^Step \d+\/\d+ :/gm)?.length ?? 0;
      const cached = build.stdout.match(/^ ---> Using cache$/gm)?.length ?? 0;
      report.add(
        'compose.cache',
        'compose build: steps reused from the image builds',
        `${cached} of ${steps}`,
      );
      report.add(
        'compose.build',
        'compose build, both services (layer cache from the image builds)',
        seconds(build.ms),
        's',
      );
      const upStarted = performance.now();
      await compose(['up', '--detach', '--no-build'], 300_000);
      const healthy = await pollUntil(
        'every compose service to be healthy',
        async () => {
          for (const service of ['postgres', ...SERVICES]) {
            const state = await inspect<ContainerState>(await containerOf(service), '{{json .State}}');
            if (state.Health?.Status !== 'healthy') return undefined;
          }
          return performance.now();
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      report.add(
        'compose.up',
        'compose up → postgres, user-service, order-service healthy',
        seconds(healthy - upStarted),
        's',
      );
    });

    afterAll(async () => {
      await compose(['down', '--volumes', '--timeout', '20'], 120_000).catch(() => undefined);
      if (resolvedDir) rmSync(resolvedDir, { recursive: true, force: true });
    });

    it('starts postgres, then user-service, then order-service, each once the one before is healthy', async () => {
      const states = new Map<string, ContainerState>();
      for (const service of ['postgres', ...SERVICES]) {
        states.set(service, await inspect<ContainerState>(await containerOf(service), '{{json .State}}'));
      }
      const firstHealthy = (service: string) => {
        const log = states.get(service)?.Health?.Log ?? [];
        // Docker keeps the last five checks; the first healthy one may have rotated out, then the oldest kept bounds it.
        return Date.parse(log.find((l) => l.ExitCode === 0)?.End ?? '');
      };
      const startedAt = (service: string) => Date.parse(states.get(service)?.StartedAt ?? '');
      for (const service of ['postgres', ...SERVICES])
        expect(states.get(service)?.Health?.Status, service).toBe('healthy');
      expect(startedAt('user-service')).toBeGreaterThanOrEqual(startedAt('postgres'));
      expect(startedAt('order-service')).toBeGreaterThan(startedAt('user-service'));
      // depends_on: service_healthy: a dependent starts only after its dependency's first passing check.
      const userLog = states.get('user-service')?.Health?.Log ?? [];
      if (userLog.length < 5)
        expect(startedAt('order-service')).toBeGreaterThanOrEqual(firstHealthy('user-service'));
      const pgLog = states.get('postgres')?.Health?.Log ?? [];
      if (pgLog.length < 5)
        expect(startedAt('user-service')).toBeGreaterThanOrEqual(firstHealthy('postgres'));
    });

    it.each(SERVICES)(
      '%s: keeps the hardening of docker-compose.yml (65532, read-only, tmpfs /tmp, init, restart policy)',
      async (service) => {
        const id = await containerOf(service);
        const config = await inspect<{ User: string }>(id, '{{json .Config}}');
        const host = await inspect<{
          ReadonlyRootfs: boolean;
          Init: boolean;
          Tmpfs: Record<string, string>;
          RestartPolicy: { Name: string };
          NetworkMode: string;
        }>(id, '{{json .HostConfig}}');
        expect(config.User).toBe('65532:65532');
        expect(host).toMatchObject({
          ReadonlyRootfs: true,
          Init: true,
          NetworkMode: 'host',
          RestartPolicy: { Name: 'unless-stopped' },
        });
        expect(Object.keys(host.Tmpfs)).toEqual(['/tmp']);
      },
    );

    it('serves the seed requests end to end over 127.0.0.1', async () => {
      await exerciseSeedRequests(`http://${LOOPBACK}:${ports.user}`, `http://${LOOPBACK}:${ports.order}`);
      const version = await request('GET', `http://${LOOPBACK}:${ports.order}/version`);
      expect(version.body).toEqual({ service: 'order-service', version: VERSION, commit: COMMIT });
    });

    it('creates no network: every container is on the host network', async () => {
      const networks = await docker([
        'network',
        'ls',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--quiet',
      ]);
      expect(networks.stdout.trim()).toBe('');
    });

    it('`stop` drains both services (exit 0), and `down --volumes` removes every container and volume', async () => {
      const ids = await Promise.all(SERVICES.map((s) => containerOf(s)));
      await compose(['stop', '--timeout', '20'], 120_000);
      for (const [i, id] of ids.entries()) {
        const state = await inspect<ContainerState>(id, '{{json .State}}');
        expect(state.ExitCode, SERVICES[i]).toBe(0);
        expect((await docker(['logs', id])).stdout, SERVICES[i]).toMatch(/"msg":"shutdown complete"/);
      }
      await compose(['down', '--volumes', '--timeout', '20'], 120_000);
      const label = `label=com.docker.compose.project=${project}`;
      expect((await docker(['ps', '--all', '--quiet', '--filter', label])).stdout.trim()).toBe('');
      expect((await docker(['volume', 'ls', '--quiet', '--filter', label])).stdout.trim()).toBe('');
    });
  });
});
