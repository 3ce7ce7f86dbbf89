/** The promotion script and the manifest render, run in a repository copy the way the workflows run them. */
import type { RunResult } from '../../support/tools.js';
import { runCommand } from '../../support/tools.js';
import { cleanEnvironment, type RepoCopy } from './repo-copy.js';

export const PROMOTE_SCRIPT = '.github/scripts/promote-image.mjs';

/** `promote-image.mjs set`: pins each service of `images` to its digest in `env`, under `tag`. */
export function setImages(
  repo: RepoCopy,
  env: string,
  tag: string,
  images: Record<string, string>,
): Promise<RunResult> {
  const pins = Object.entries(images).flatMap(([service, digest]) => ['--image', `${service}=${digest}`]);
  return repo.node(PROMOTE_SCRIPT, ['set', '--env', env, '--tag', tag, ...pins]);
}

/** `promote-image.mjs copy` from one environment to the next, with further options such as `--chart-only`. */
export function copyImages(
  repo: RepoCopy,
  from: string,
  to: string,
  ...options: string[]
): Promise<RunResult> {
  return repo.node(PROMOTE_SCRIPT, ['copy', '--from', from, '--to', to, ...options]);
}

/**
 * `npm run render-k8s -- …args` in `dir`. CHART_SOURCE_BASE is set only when `base` is given, so the
 * render checks what CI's lint step checks and not whatever the test process happens to export.
 */
export function renderK8s(dir: string, args: readonly string[] = [], base?: string): Promise<RunResult> {
  const env = cleanEnvironment();
  delete env.CHART_SOURCE_BASE;
  return runCommand(
    'npm',
    [
      'run',
      '--silent',
      'render-k8s',
      '-w',
      '@microservices/deploy-tests',
      ...(args.length ? ['--', ...args] : []),
    ],
    { cwd: dir, env: base ? { ...env, CHART_SOURCE_BASE: base } : env },
  );
}

/** What the copy's working tree changed, every untracked file listed by itself, sorted. */
export async function changedFiles(repo: RepoCopy): Promise<string[]> {
  return (await repo.git('status', '--porcelain', '--untracked-files=all'))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3))
    .sort();
}

/** Commits everything in the copy, untracked files included; resolves to the new HEAD. */
export async function commitAll(repo: RepoCopy, message: string): Promise<string> {
  await repo.git('add', '--all');
  await repo.git('commit', '--quiet', '--message', message);
  return repo.git('rev-parse', 'HEAD');
}

/** The last commit that changed the chart or the shared values: the chart source a promotion records. */
export function lastChartCommit(repo: RepoCopy): Promise<string> {
  return repo.git('log', '-1', '--format=%H', '--', 'helm/microservice', 'k8s/values-common.yaml');
}
