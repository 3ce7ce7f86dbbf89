// Static checks of the two Dockerfiles and .dockerignore (no engine needed, a second or two).
// The engine tests (engine.test.ts) then build and run what these files describe.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parseOrderServiceEnv } from '../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../user-service/src/env.js';
import { type ParsedDockerfile, readDockerfile, resolvedBase } from './support/dockerfiles.js';
import { dockerfilePath, repoRoot, SERVICES, type ServiceName } from './support/paths.js';

const defaultPort: Record<ServiceName, number> = {
  'user-service': parseUserServiceEnv({}).PORT,
  'order-service': parseOrderServiceEnv({}).PORT,
};
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

describe.each(SERVICES)('%s/Dockerfile', (service) => {
  const dockerfile = readDockerfile(service);
  const runtime = dockerfile.stages.at(-1);

  it('has no syntax or instruction problems (dockerfile-utils)', () => {
    const problems = validate(dockerfile.text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

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
    expect(args('EXPOSE')).toEqual([String(defaultPort[service])]);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
    const [healthcheck] = args('HEALTHCHECK');
    expect(JSON.parse(healthcheck?.replace(/^.*?CMD\s+(\[.*\])$/, '$1') ?? 'null')).toEqual(
      HEALTHCHECK_CMD.slice(1),
    );
    expect(healthcheck).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \[/);

    const env = args('ENV').join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(new RegExp(`\\bPORT=${defaultPort[service]}\\b`));
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bAPP_VERSION=\$\{VERSION\}/);
    expect(env).toMatch(/\bGIT_COMMIT=\$\{COMMIT\}/);

    const labels = args('LABEL').join(' ');
    expect(labels).toContain(`org.opencontainers.image.title="${service}"`);
    expect(labels).toContain(`org.opencontainers.image.source="${ref('SOURCE')}"`);
    expect(labels).toContain(`org.opencontainers.image.revision="${ref('COMMIT')}"`);
    expect(labels).toContain(`org.opencontainers.image.version="${ref('VERSION')}"`);
    expect(runtime?.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0])).toEqual(
      ['VERSION', 'COMMIT', 'SOURCE'],
    );
  });
});

it('the two Dockerfiles are one file with the service name and port changed (edit both or neither)', () => {
  const user = readFileSync(dockerfilePath('user-service'), 'utf8');
  const order = readFileSync(dockerfilePath('order-service'), 'utf8');
  const asOrder = user
    .replaceAll('user-service', 'order-service')
    .replace(new RegExp(`\\b${defaultPort['user-service']}\\b`, 'g'), String(defaultPort['order-service']));
  expect(order).toBe(asOrder);
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

  it('admits every source a Dockerfile copies, and nothing under helm/, k8s/ or the test workspaces', () => {
    const allowed = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
    const admitted = (path: string) => allowed.some((a) => path === a || path.startsWith(`${a}/`));
    for (const service of SERVICES) {
      const sources = readDockerfile(service)
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
