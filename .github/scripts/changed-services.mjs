#!/usr/bin/env node
// Which service images release.yml must build: prints a JSON array such as ["user-service"] and, on
// GitHub, writes `services=<that array>` to $GITHUB_OUTPUT for the build matrix.
//
//   node .github/scripts/changed-services.mjs [--all] [--head <rev>] [--env dev]
//
// A service is built when any file its image is made from changed since the commit its image in
// k8s/<env> was built from. The inputs are read from the one Dockerfile as that service's build sees it
// (every `COPY` source from the build context with ${SERVICE} resolved, plus the Dockerfile and
// .dockerignore), so the list never goes stale. The
// "built from" commit is the `Source-Commit:` trailer promote-image.mjs writes into the promotion commit
// that last touched k8s/<env>/<service>/values.yaml. Comparing against that commit, rather than the
// previous push, means a run that was cancelled or failed before promoting is simply caught up by the
// next one. With no such commit (first run), or one that is not an ancestor of HEAD, the service is
// built. `--all` (tags) builds every service. Needs the full history (checkout with fetch-depth: 0).
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const SOURCE_TRAILER = 'Source-Commit';

const git = (root, args) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const gitOk = (root, args) => {
  try {
    git(root, args);
    return true;
  } catch {
    return false;
  }
};

/** The one Dockerfile every service image is built from (`--build-arg SERVICE=<service>`). */
export const DOCKERFILE = 'microservices/Dockerfile';

/**
 * Services are the directories under microservices/ whose `npm run build` is the service bundler
 * (scripts/build-service.mjs): what the Dockerfile's build stage runs for SERVICE.
 */
export function discoverServices(root) {
  const base = join(root, 'microservices');
  const bundled = (dir) => {
    const manifest = join(base, dir, 'package.json');
    if (!existsSync(manifest)) return false;
    const build = JSON.parse(readFileSync(manifest, 'utf8')).scripts?.build ?? '';
    return /\bbuild-service\.mjs\b/.test(build);
  };
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && bundled(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** The repository paths an image is built from: COPY sources (not `--from=` stages), the Dockerfile, .dockerignore. */
export function imageInputs(root, service) {
  const text = readFileSync(join(root, DOCKERFILE), 'utf8')
    .replace(/\\\n/g, ' ')
    .replaceAll(`\${SERVICE}`, service);
  if (/\$\{?SERVICE\b/.test(text)) throw new Error(`${DOCKERFILE}: write SERVICE as \${SERVICE}`);
  const inputs = new Set([DOCKERFILE, '.dockerignore']);
  for (const line of text.split('\n')) {
    const match = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!match) continue;
    const words = (match[2] ?? '').trim().split(/\s+/);
    if (words.some((word) => word.startsWith('--from='))) continue;
    const paths = words.filter((word) => !word.startsWith('--'));
    for (const source of paths.slice(0, -1))
      inputs.add(source.replace(/^\.\//, '').replace(/\/$/, '') || '.');
  }
  // A path inside another listed directory adds nothing to the git pathspec.
  const all = [...inputs];
  return all.filter((path) => !all.some((other) => other !== path && path.startsWith(`${other}/`))).sort();
}

/** The commit the image currently in k8s/<env>/<service> was built from, or null. */
export function lastSourceCommit(root, env, service, head) {
  const log = git(root, [
    'log',
    `--format=%(trailers:key=${SOURCE_TRAILER},valueonly,separator=%x20)`,
    head,
    '--',
    `k8s/${env}/${service}/values.yaml`,
  ]);
  const found = log
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^[0-9a-f]{40}$/.test(line));
  return found ?? null;
}

export function changedServices(root, { all = false, head = 'HEAD', env = 'dev' } = {}) {
  const services = discoverServices(root);
  const decisions = services.map((service) => {
    if (all) return { service, build: true, why: 'all services are built for a tag' };
    const base = lastSourceCommit(root, env, service, head);
    if (!base) return { service, build: true, why: `no promotion to ${env} recorded yet` };
    if (!gitOk(root, ['merge-base', '--is-ancestor', base, head])) {
      return {
        service,
        build: true,
        why: `${base.slice(0, 7)} (last built for ${env}) is not in this history`,
      };
    }
    const changed = git(root, ['diff', '--name-only', base, head, '--', ...imageInputs(root, service)]);
    return changed
      ? { service, build: true, why: `changed since ${base.slice(0, 7)}: ${changed.split('\n').join(', ')}` }
      : { service, build: false, why: `nothing it is built from changed since ${base.slice(0, 7)}` };
  });
  return decisions;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { values } = parseArgs({
    options: {
      all: { type: 'boolean', default: false },
      head: { type: 'string', default: 'HEAD' },
      env: { type: 'string', default: 'dev' },
    },
    strict: true,
  });
  const decisions = changedServices(root, values);
  for (const d of decisions) process.stderr.write(`${d.service}: ${d.build ? 'build' : 'skip'} (${d.why})\n`);
  const services = JSON.stringify(decisions.filter((d) => d.build).map((d) => d.service));
  process.stdout.write(`${services}\n`);
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `services=${services}\n`);
}
