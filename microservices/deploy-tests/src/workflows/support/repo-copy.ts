import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from '../../support/deploy-paths.js';
import { type RunResult, runCommand } from '../../support/tools.js';

const exec = promisify(execFile);

export interface RepoCopy {
  dir: string;
  /** git in the copy; rejects on a non-zero exit. */
  git(...args: string[]): Promise<string>;
  /** `node <script> …args` in the copy (its own .github/scripts), never throwing; GITHUB_OUTPUT unset unless given. */
  node(script: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** Back to the last commit: tracked files restored, untracked ones deleted. */
  reset(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * The test process's environment without what `npm test` exported: a nested npm would take
 * npm_config_local_prefix (the real repository) over its working directory and render there.
 */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD'),
  );
}

export interface CopyOptions {
  /**
   * true: a repository with no past, as an adopter gets from a template or a squashed import: one commit, no
   * parent, none of this repository's objects. The chart sources k8s/staging and k8s/prod record do not
   * exist in it. false (default): the one commit's parent is this repository's HEAD (objects shared as
   * git alternates), so the recorded chart sources are real ancestors of main, as in this repository.
   */
  freshHistory?: boolean;
}

/**
 * A throwaway copy of this working tree as a git repository whose main has one new commit: every tracked
 * and untracked-but-not-ignored file (so uncommitted work is included), node_modules linked rather than
 * copied. Scripts run here exactly as on a GitHub runner after checkout and `npm ci`.
 */
export async function copyRepository({ freshHistory = false }: CopyOptions = {}): Promise<RepoCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'repo-copy-'));
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter((f) => f && existsSync(join(repoRoot, f)));
  for (const file of files) {
    const from = join(repoRoot, file);
    if (!(await stat(from)).isFile()) continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(from, join(dir, file));
  }
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const git = async (...args: string[]) => {
    const result = await exec('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return result.stdout.trimEnd();
  };
  await git('init', '--quiet', '--initial-branch=main');
  if (!freshHistory) {
    // The real repository's objects stay reachable and its HEAD is the copy's parent, so the chart sources
    // k8s/staging and k8s/prod record (commits of the real history) are ancestors of main here too.
    const { stdout: common } = await exec(
      'git',
      ['rev-parse', '--path-format=absolute', '--git-common-dir'],
      { cwd: repoRoot },
    );
    await appendFile(
      join(dir, '.git', 'objects', 'info', 'alternates'),
      `${join(common.trim(), 'objects')}\n`,
    );
    const { stdout: head } = await exec('git', ['rev-parse', 'HEAD'], { cwd: repoRoot });
    await git('update-ref', 'refs/heads/main', head.trim());
  }
  // .gitignore's `node_modules/` matches directories only, not the symlink standing in for one.
  await appendFile(join(dir, '.git', 'info', 'exclude'), '/node_modules\n');
  await git('add', '--all');
  await git('commit', '--quiet', '--allow-empty', '--message', 'copy of the working tree');
  return {
    dir,
    git,
    node: (script, args, env) =>
      runCommand(process.execPath, [join(dir, script), ...args], {
        cwd: dir,
        env: { ...cleanEnvironment(), GITHUB_OUTPUT: '', ...env },
      }),
    reset: async () => {
      await git('reset', '--quiet', '--hard', 'HEAD');
      await git('clean', '--quiet', '-fd');
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * One copy for every test of the calling file (or describe block): made before the first, removed after the
 * last. The returned object stands for that copy, so it can be held in a const before the copy exists.
 */
export function useRepositoryCopy(options: CopyOptions = {}): RepoCopy {
  let copy: RepoCopy | undefined;
  beforeAll(async () => {
    copy = await copyRepository(options);
  });
  afterAll(async () => copy?.remove());
  const current = () => {
    if (!copy) throw new Error('the repository copy is made in beforeAll: use it inside a test');
    return copy;
  };
  return {
    get dir() {
      return current().dir;
    },
    git: (...args) => current().git(...args),
    node: (script, args, env) => current().node(script, args, env),
    reset: () => current().reset(),
    remove: () => current().remove(),
  };
}
