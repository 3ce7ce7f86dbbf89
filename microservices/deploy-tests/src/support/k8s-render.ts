import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { k8sDir, repoRoot } from './deploy-paths.js';
import { ENVIRONMENTS, type EnvironmentName, namespaceOf, SERVICES, type ServiceName } from './helm.js';
import { ensureTools, runCommand } from './tools.js';

const exec = promisify(execFile);

/** k8s/<env>/<service>/manifests.yaml: rendered from the chart, committed, consumed by kubectl and Argo CD. */
export const manifestsPath = (env: EnvironmentName, service: ServiceName) =>
  join(k8sDir, env, service, 'manifests.yaml');

export const RENDER_COMMAND = 'npm run render-k8s -w @microservices/deploy-tests';

/**
 * What an environment takes from the commit its chart source names, rather than from the working tree: the
 * chart (templates, defaults, schema, the per-service presets) and the configuration shared by every
 * environment. Everything else an environment runs lives in its own folder (k8s/<env>/values.yaml,
 * k8s/<env>/<service>/values.yaml with the image digest), so one commit to that folder is one promotion and
 * its revert is the rollback.
 */
export const CHART_INPUTS = ['helm/microservice', 'k8s/values-common.yaml'] as const;

/** k8s/<env>/chart-source.yaml: the commit staging and prod render the chart from. dev has none: it follows main. */
export const chartSourcePath = (env: EnvironmentName) => join(k8sDir, env, 'chart-source.yaml');

/** The environments that run the chart of a recorded commit (every one after the first). */
export const PROMOTED_ENVIRONMENTS = ENVIRONMENTS.filter((env) => env !== 'dev');

const COMMIT = /^[0-9a-f]{40}$/;

/** The commit k8s/<env>/chart-source.yaml records, or null for dev (the working tree). Throws on a bad file. */
export async function chartSourceOf(env: EnvironmentName, root = repoRoot): Promise<string | null> {
  const file = join(root, 'k8s', env, 'chart-source.yaml');
  if (env === 'dev') {
    if (existsSync(file))
      throw new Error('k8s/dev/chart-source.yaml must not exist: dev renders the chart of its own commit');
    return null;
  }
  if (!existsSync(file)) {
    throw new Error(
      `k8s/${env}/chart-source.yaml not found: ${env} must record the commit its chart is rendered from ` +
        '(written by .github/scripts/promote-image.mjs copy)',
    );
  }
  const doc: unknown = parse(await readFile(file, 'utf8'));
  const commit = (doc as { chart?: { commit?: unknown } } | null)?.chart?.commit;
  if (typeof commit !== 'string' || !COMMIT.test(commit))
    throw new Error(
      `k8s/${env}/chart-source.yaml: chart.commit must be a full commit SHA (got ${String(commit)})`,
    );
  return commit;
}

const extracted = new Map<string, Promise<string>>();

/** What `promote-image.mjs bootstrap` is called by the manual and the error messages. */
export const BOOTSTRAP_COMMAND = 'node .github/scripts/promote-image.mjs bootstrap';

/**
 * The branch a recorded chart source must be on: CHART_SOURCE_BASE when set (CI sets origin/<base branch>),
 * else origin/main when the clone has it, else HEAD. A commit only a pull request's branch has (promoted on
 * the branch, then squash- or rebase-merged and the branch deleted) would vanish with the branch.
 */
export async function chartSourceBase(root = repoRoot): Promise<string> {
  const configured = process.env.CHART_SOURCE_BASE?.trim();
  if (configured) return configured;
  try {
    await exec('git', ['rev-parse', '--verify', '--quiet', 'refs/remotes/origin/main'], { cwd: root });
    return 'origin/main';
  } catch {
    return 'HEAD';
  }
}

/**
 * Fails, saying what to do, unless `commit` is in this clone and an ancestor of the base branch. Two ways to
 * get there: a repository adopted with fresh history (a template, a squashed import: the recorded commits
 * are not in it at all), and a promotion recorded on a pull request's branch that was squash- or
 * rebase-merged (the commit is gone from main).
 */
export async function assertChartSourceOnBase(commit: string, env: string, root = repoRoot): Promise<void> {
  const base = await chartSourceBase(root);
  const where = `k8s/${env}/chart-source.yaml records chart commit ${commit}`;
  const remedy =
    `If this repository was created from a template or a squashed import (fresh history), run ` +
    `\`${BOOTSTRAP_COMMAND}\` and commit (MICROSERVICES_README.md, "Adopting the pipeline with fresh history"). ` +
    `If a promotion was made on a pull request's branch and squash- or rebase-merged, promote again from main.`;
  try {
    await exec('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: root });
  } catch {
    throw new Error(
      `${where}, which is not in this clone: fetch the full history if the clone is shallow (git fetch ` +
        `--unshallow, or actions/checkout with fetch-depth: 0). ${remedy}`,
    );
  }
  try {
    await exec('git', ['merge-base', '--is-ancestor', commit, base], { cwd: root });
  } catch {
    throw new Error(`${where}, which is not an ancestor of ${base} (the branch it must be on). ${remedy}`);
  }
}

/**
 * Files outside the chart inputs that a symlink inside them points at, as of `commit` (the chart's Grafana
 * dashboard links to the one under microservices/): helm follows the link, so the target is part of the
 * chart and must come from the same commit.
 */
async function symlinkTargets(commit: string, root: string): Promise<string[]> {
  const { stdout } = await exec('git', ['ls-tree', '-r', commit, '--', ...CHART_INPUTS], { cwd: root });
  const targets: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^120000 blob ([0-9a-f]+)\t(.+)$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const { stdout: link } = await exec('git', ['cat-file', 'blob', match[1]], { cwd: root });
    const target = posix.normalize(posix.join(posix.dirname(match[2]), link.trim()));
    if (!target.startsWith('../') && !CHART_INPUTS.some((input) => target.startsWith(input)))
      targets.push(target);
  }
  return targets;
}

/**
 * The chart inputs as they were at `commit`, extracted once per process into a temporary directory laid out
 * like the repository (helm/microservice, k8s/values-common.yaml). Needs the commit in the local history, on
 * the base branch (assertChartSourceOnBase): CI checks out with fetch-depth: 0.
 */
export function checkoutChartSource(commit: string, root = repoRoot, env = 'staging'): Promise<string> {
  const key = `${root}@${commit}`;
  let pending = extracted.get(key);
  if (!pending) {
    pending = (async () => {
      await assertChartSourceOnBase(commit, env, root);
      const dir = await mkdtemp(join(tmpdir(), `chart-source-${commit.slice(0, 7)}-`));
      const archive = join(dir, '.archive.tar');
      const paths = [...CHART_INPUTS, ...(await symlinkTargets(commit, root))];
      await exec('git', ['archive', '--format=tar', `--output=${archive}`, commit, '--', ...paths], {
        cwd: root,
      });
      await exec('tar', ['-xf', archive, '-C', dir]);
      await rm(archive);
      return dir;
    })();
    extracted.set(key, pending);
  }
  return pending;
}

export interface ChartSource {
  /** null: the working tree (dev). */
  commit: string | null;
  /** Directory holding helm/microservice and k8s/values-common.yaml for this render. */
  base: string;
}

export async function chartSourceFor(env: EnvironmentName, root = repoRoot): Promise<ChartSource> {
  const commit = await chartSourceOf(env, root);
  return { commit, base: commit ? await checkoutChartSource(commit, root, env) : root };
}

/** The values files behind k8s/<env>/<service>/manifests.yaml, in the order helm layers them. */
export function environmentValuesFrom(
  source: ChartSource,
  env: EnvironmentName,
  service: ServiceName,
  root = repoRoot,
) {
  return [
    join(source.base, 'helm', 'microservice', `values-${service}.yaml`),
    join(source.base, 'k8s', 'values-common.yaml'),
    join(root, 'k8s', env, 'values.yaml'),
    join(root, 'k8s', env, service, 'values.yaml'),
  ];
}

/** The exact text k8s/<env>/<service>/manifests.yaml must have for its chart source and values. */
export async function renderEnvironmentManifests(
  env: EnvironmentName,
  service: ServiceName,
  root = repoRoot,
): Promise<string> {
  const source = await chartSourceFor(env, root);
  const valuesFiles = environmentValuesFrom(source, env, service, root);
  const { helm, env: helmEnv } = await ensureTools();
  const chart = join(source.base, 'helm', 'microservice');
  // `helm test` pods need helm; the PostSync Job is their Argo CD / kubectl equivalent.
  const args = ['template', service, chart, '--namespace', namespaceOf(env), '--skip-tests'];
  const result = await runCommand(helm, [...args, ...valuesFiles.flatMap((f) => ['-f', f])], {
    env: helmEnv,
  });
  if (result.code !== 0) throw new Error(`helm template (${service} ${env}) failed:\n${result.stderr}`);
  const name = (file: string) =>
    file.startsWith(`${source.base}/`) ? file.slice(source.base.length + 1) : file.slice(root.length + 1);
  const header = [
    `# GENERATED by \`${RENDER_COMMAND}\` from helm/microservice with the values files`,
    ...valuesFiles.map(
      (file) =>
        `#   ${name(file)}${source.commit && file.startsWith(source.base) ? ' (at the chart source)' : ''}`,
    ),
    ...(source.commit
      ? [
          `# chart source: ${source.commit} (k8s/${env}/chart-source.yaml): chart and shared values of that commit`,
        ]
      : []),
    '# Do not edit: change those files and re-render. A test fails when this file and the chart disagree.',
  ];
  return `${header.join('\n')}\n${result.stdout}`;
}

export interface Drift {
  env: EnvironmentName;
  service: ServiceName;
  path: string;
  expected: string;
  actual: string | null;
}

/** Every environment × service whose committed manifests differ from a fresh render of its chart source. */
export async function findDrift(
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
  root = repoRoot,
  environments: readonly EnvironmentName[] = ENVIRONMENTS,
): Promise<{ checked: number; drift: Drift[] }> {
  const jobs = environments.flatMap((env) => SERVICES.map((service) => ({ env, service })));
  const results = await Promise.all(
    jobs.map(async ({ env, service }) => {
      const path = join(root, 'k8s', env, service, 'manifests.yaml');
      const expected = await renderEnvironmentManifests(env, service, root);
      const actual = await read(path).catch(() => null);
      return { env, service, path, expected, actual };
    }),
  );
  return { checked: results.length, drift: results.filter((r) => r.actual !== r.expected) };
}
