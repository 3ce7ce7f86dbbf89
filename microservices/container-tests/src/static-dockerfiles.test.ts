// Static checks of the one Dockerfile and .dockerignore (no engine needed, a second or two). The Dockerfile
// is checked as written, and as each service's build sees it (SERVICE and PORT resolved). The engine tests
// (engine.test.ts) then build and run both images from it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import {
  buildArgsOf,
  dockerfileFor,
  type ParsedDockerfile,
  readDockerfile,
  resolvedBase,
  type ServiceBuildArgs,
} from './support/dockerfiles.js';
import { repoRoot, SERVICES } from './support/paths.js';

const HEALTHCHECK_CMD = ['CMD', '/nodejs/bin/node', 'dist/healthcheck.js'];
/** A Dockerfile variable reference as written in the file, e.g. `${VERSION}`. */
const ref = (name: string) => `\${${name}}`;

interface LintIssue {
  line: number;
  title: string;
  description: string;
}

/** dockerfilelint is CommonJS without types; its `run(path, content)` returns the issues it finds. */
const dockerfilelint = createRequire(import.meta.url)('dockerfilelint') as {
  run(path: string, content: string): LintIssue[];
};

const instructionsOf = (dockerfile: ParsedDockerfile, index: number, keyword: string) =>
  (dockerfile.stages.at(index)?.instructions ?? []).filter((i) => i.keyword === keyword);

/** Build args as the environment a RUN script sees them in. */
const asEnv = (args: ServiceBuildArgs) => ({ SERVICE: args.SERVICE, PORT: String(args.PORT) });

const argNames = (dockerfile: ParsedDockerfile, index: number) =>
  instructionsOf(dockerfile, index, 'ARG').map((i) => i.args);

describe('microservices/Dockerfile, as written', () => {
  const dockerfile = readDockerfile();

  it('has no syntax or instruction problems (dockerfile-utils)', () => {
    const problems = validate(dockerfile.text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('is the only Dockerfile: no service keeps a copy of its own', () => {
    for (const service of SERVICES)
      expect(existsSync(join(repoRoot, 'microservices', service, 'Dockerfile')), service).toBe(false);
  });

  it('takes SERVICE and PORT in both stages, with no default, and writes them only in braces', () => {
    for (const index of [0, -1]) {
      expect(argNames(dockerfile, index).filter((a) => /^(SERVICE|PORT)\b/.test(a))).toEqual([
        'SERVICE',
        'PORT',
      ]);
    }
    expect(dockerfile.globalArgs.has('SERVICE')).toBe(false);
    expect(dockerfile.globalArgs.has('PORT')).toBe(false);
    // dockerfileFor() resolves exactly these forms; a bare $SERVICE would slip past it.
    const instructions = dockerfile.stages.flatMap((s) => s.instructions.map((i) => i.args)).join('\n');
    expect(instructions).not.toMatch(/\$(SERVICE|PORT)\b/);
    expect(instructions).toContain(ref('SERVICE'));
    expect(instructions).toContain(ref('PORT'));
  });

  it('refuses a build without SERVICE or PORT, or with a malformed one, before copying anything', () => {
    // The first instruction of the build stage after its ARGs: a RUN whose script the shell runs with the
    // ARGs as environment variables, as `docker build` does.
    const build = dockerfile.stages[0]?.instructions ?? [];
    const guardAt = build.findIndex((i) => i.keyword === 'RUN');
    expect(build.findIndex((i) => i.keyword === 'COPY')).toBeGreaterThan(guardAt);
    const script = build[guardAt]?.args ?? '';
    const guard = (env: Record<string, string>) => {
      const res = spawnSync('sh', ['-c', script], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      });
      return { code: res.status, stderr: res.stderr };
    };
    for (const service of SERVICES) expect(guard(asEnv(buildArgsOf(service))).code).toBe(0);
    const missingService = guard({ SERVICE: '', PORT: '8000' });
    expect(missingService.code).toBe(1);
    expect(missingService.stderr).toMatch(/build arg SERVICE: .*--build-arg SERVICE=user-service/);
    expect(guard({ PORT: '8000' }).code).toBe(1);
    expect(guard({ SERVICE: '../user-service', PORT: '8000' }).code).toBe(1);
    const missingPort = guard({ SERVICE: 'order-service' });
    expect(missingPort.code).toBe(1);
    expect(missingPort.stderr).toMatch(/build arg PORT: .*order-service/);
    expect(guard({ SERVICE: 'order-service', PORT: '80a' }).code).toBe(1);
  });
  it('pins both base images by tag and digest, in build args a build can override', () => {
    // Issue 15: the build stage runs on the build platform (the bundle is plain JavaScript; nothing runs under
    // QEMU), the runtime stage on each target platform.
    expect(dockerfile.stages.map((s) => s.from)).toEqual([
      `--platform=${ref('BUILDPLATFORM:-linux/amd64')} ${ref('BUILD_IMAGE')} AS build`,
      `${ref('RUNTIME_IMAGE')} AS runtime`,
    ]);
    expect(dockerfile.globalArgs.get('BUILDPLATFORM')).toBe('');
    expect(dockerfile.globalArgs.get('BUILD_IMAGE')).toMatch(
      /^node:24-(bookworm|trixie)-slim@sha256:[0-9a-f]{64}$/,
    );
    expect(dockerfile.globalArgs.get('RUNTIME_IMAGE')).toMatch(
      /^gcr\.io\/distroless\/nodejs24-debian13:nonroot@sha256:[0-9a-f]{64}$/,
    );
    // Says how to refresh the digests.
    expect(dockerfile.text).toMatch(/imagetools inspect node:24-/);
    expect(dockerfile.text).toMatch(/imagetools inspect gcr\.io\/distroless\/nodejs24-debian13:nonroot/);
  });
});

describe.each(SERVICES)('microservices/Dockerfile with SERVICE=%s', (service) => {
  const buildArgs = buildArgsOf(service);
  const dockerfile = dockerfileFor(buildArgs);
  const runtime = dockerfile.stages.at(-1);

  it('follows the usual Dockerfile practices (dockerfilelint), linted as a plain build resolves it', () => {
    // dockerfilelint cannot see through `FROM ${ARG}` (it reports a missing tag), so it lints the file with
    // the ARG defaults substituted, i.e. what `docker build` pulls. Its HEALTHCHECK check predates
    // --start-period (it parses `--start` as an unknown option), so that one option is checked here instead.
    let resolved = dockerfile.text;
    for (const stage of dockerfile.stages)
      resolved = resolved.replace(
        stage.from,
        `${resolvedBase(dockerfile, stage)}${stage.name ? ` AS ${stage.name}` : ''}`,
      );
    expect(resolved).toMatch(/^HEALTHCHECK .*--start-period=\d+s /m);
    resolved = resolved.replace(/(^HEALTHCHECK .*)--start-period=\d+s /m, '$1');
    const issues = dockerfilelint.run(repoRoot, resolved);
    expect(issues.map((i) => `line ${i.line}: ${i.title} — ${i.description}`)).toEqual([]);
  });

  it('installs only the workspaces the service builds from, exactly as locked, and builds the bundle', () => {
    const runs = instructionsOf(dockerfile, 0, 'RUN').map((i) => i.args);
    const install = runs.find((r) => /\bnpm\b/.test(r) && /\bci\b/.test(r));
    expect(install).toBeDefined();
    expect(install).toMatch(/--workspace @microservices\/service-kit\b/);
    expect(install).toMatch(new RegExp(`--workspace @microservices/${service}\\b`));
    expect(install).toMatch(/--include-workspace-root\b/);
    expect(install?.match(/--workspace /g)).toHaveLength(2);
    expect(runs.join('\n')).not.toMatch(/npm (i|install)\b/);
    expect(runs.join('\n')).toContain(`npm run build --workspace @microservices/${service}`);
    // Classic builder compatibility (Docker 20.10 without buildx): no BuildKit-only syntax.
    expect(dockerfile.text).not.toMatch(/--mount=|<<\w|^# syntax=/m);
  });

  it('ships only the bundle to a shell-less runtime: no RUN, no node_modules, no sources', () => {
    expect(instructionsOf(dockerfile, -1, 'RUN')).toEqual([]);
    const copies = instructionsOf(dockerfile, -1, 'COPY').map((i) => i.args);
    expect(copies).toEqual([
      `--from=build /src/microservices/${service}/package.json ./package.json`,
      `--from=build /src/microservices/${service}/dist ./dist`,
    ]);
  });

  it('runs as 65532 with exec-form CMD and HEALTHCHECK, production env, its port and OCI labels', () => {
    const args = (keyword: string) => instructionsOf(dockerfile, -1, keyword).map((i) => i.args);
    expect(args('USER')).toEqual(['65532:65532']);
    expect(args('WORKDIR')).toEqual(['/app']);
    expect(args('CMD').map((a) => JSON.parse(a))).toEqual([['dist/main.js']]);
    expect(args('ENTRYPOINT')).toEqual([]); // distroless's entrypoint is node
    expect(args('EXPOSE')).toEqual([String(buildArgs.PORT)]);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
    const [healthcheck] = args('HEALTHCHECK');
    expect(JSON.parse(healthcheck?.replace(/^.*?CMD\s+(\[.*\])$/, '$1') ?? 'null')).toEqual(
      HEALTHCHECK_CMD.slice(1),
    );
    expect(healthcheck).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \[/);

    const env = args('ENV').join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(new RegExp(`\\bPORT=${buildArgs.PORT}\\b`));
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bAPP_VERSION=\$\{VERSION\}/);
    expect(env).toMatch(/\bGIT_COMMIT=\$\{COMMIT\}/);

    const labels = args('LABEL').join(' ');
    expect(labels).toContain(`org.opencontainers.image.title="${service}"`);
    expect(labels).toContain(`org.opencontainers.image.source="${ref('SOURCE')}"`);
    expect(labels).toContain(`org.opencontainers.image.revision="${ref('COMMIT')}"`);
    expect(labels).toContain(`org.opencontainers.image.version="${ref('VERSION')}"`);
    expect(labels).toContain(`org.opencontainers.image.description="${service}: HTTP API`);
    expect(runtime?.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0])).toEqual(
      ['SERVICE', 'PORT', 'VERSION', 'COMMIT', 'SOURCE'],
    );
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is an allowlist: everything is out unless named, and every named path exists', () => {
    expect(patterns[0]).toBe('*');
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    for (const path of allowed) expect(existsSync(join(repoRoot, path)), path).toBe(true);
    expect(allowed).not.toContain('.git');
  });

  it('admits every source the Dockerfile copies for each service, and nothing under helm/, k8s/ or the test workspaces', () => {
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
    const admitted = (path: string) => allowed.some((a) => path === a || path.startsWith(`${a}/`));
    for (const service of SERVICES) {
      const sources = dockerfileFor(buildArgsOf(service))
        .stages[0]?.instructions.filter((i) => i.keyword === 'COPY')
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      expect(sources?.length).toBeGreaterThan(0);
      for (const source of sources ?? []) expect(admitted(source.replace(/\/$/, '')), source).toBe(true);
    }
    for (const path of [
      'helm',
      'k8s',
      'microservices/system-tests',
      'microservices/container-tests',
      '.git',
    ]) {
      expect(admitted(path), path).toBe(false);
    }
  });

  it('keeps node_modules, builds, tests and env files out even inside admitted folders', () => {
    for (const pattern of [
      '**/node_modules',
      '**/dist',
      '**/*.test.ts',
      '**/.env',
      '**/.env.*',
      '**/coverage',
    ]) {
      expect(patterns).toContain(pattern);
    }
  });
});
