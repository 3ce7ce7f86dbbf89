/**
 * Checks on the GitHub workflows for what would otherwise only fail on GitHub. Each returns the problems
 * it found (empty = pass), so a test can show that the real workflows pass and a mutated one fails.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { isObject } from '../../support/manifests.js';
import {
  choiceOptions,
  type Job,
  matrixValues,
  runScripts,
  type Scalar,
  type Step,
  stepsOf,
  type Workflow,
} from './workflows.js';

// ---------------------------------------------------------------------------------------------- actions

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s+#\s*v\d+(\.\d+){0,2}\b/;

/** Every `uses:` names a full 40-hex commit SHA and says which release that is in a trailing `# vX.Y.Z`. */
export function checkPinnedActions(workflow: Workflow): string[] {
  const problems: string[] = [];
  workflow.text.split('\n').forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1(.*)$/.exec(line);
    if (!match) return;
    const ref = match[2] ?? '';
    const rest = match[3] ?? '';
    const at = `${workflow.file}:${index + 1}`;
    if (ref.startsWith('./')) return;
    if (ref.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(ref)) problems.push(`${at}: ${ref} is not pinned by digest`);
      return;
    }
    if (!PINNED.test(ref)) problems.push(`${at}: ${ref} is not pinned to a full commit SHA`);
    else if (!VERSION_COMMENT.test(rest))
      problems.push(`${at}: ${ref} has no "# vX.Y.Z" comment naming the release`);
  });
  return problems;
}

// ------------------------------------------------------------------------------------------ permissions

/** Which jobs may have which `write` scopes; every other job inherits the read-only top level. */
export type PermissionPolicy = Record<string, readonly string[]>;

function writeScopes(permissions: Job['permissions']): string[] | 'all' {
  if (permissions === undefined) return [];
  if (typeof permissions === 'string') return permissions === 'read-all' ? [] : 'all';
  return Object.entries(permissions)
    .filter(([, level]) => level === 'write')
    .map(([scope]) => scope)
    .sort();
}

/**
 * Top level exactly `contents: read`; a job widens only to the scopes the policy lists for it, and a job
 * the policy lists has exactly those (a missing `id-token: write` fails cosign just as surely).
 */
export function checkPermissions(workflow: Workflow, policy: PermissionPolicy): string[] {
  const problems: string[] = [];
  const top = workflow.doc.permissions;
  if (!isObject(top) || Object.keys(top).length !== 1 || top.contents !== 'read') {
    problems.push(
      `${workflow.file}: top-level permissions must be exactly { contents: read } (got ${JSON.stringify(top)})`,
    );
  }
  for (const [jobId, job] of Object.entries(workflow.doc.jobs)) {
    const actual = writeScopes(job.permissions);
    const allowed = [...(policy[jobId] ?? [])].sort();
    if (actual === 'all') {
      problems.push(
        `${workflow.file} › ${jobId}: permissions "${String(job.permissions)}" grants everything`,
      );
    } else if (actual.join() !== allowed.join()) {
      problems.push(
        `${workflow.file} › ${jobId}: write scopes [${actual.join(', ')}], expected [${allowed.join(', ')}]`,
      );
    }
  }
  for (const jobId of Object.keys(policy)) {
    if (!workflow.doc.jobs[jobId])
      problems.push(`${workflow.file}: the policy names a job "${jobId}" that does not exist`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------ concurrency

/**
 * A concurrency group keyed by the workflow. `cancel: true` (the default): a newer run cancels the one it
 * supersedes. `cancel: false` (release.yml, issue 15): runs queue, because a cancelled release pushes images
 * and never pins dev to them.
 */
export function checkConcurrency(workflow: Workflow, { cancel = true } = {}): string[] {
  const concurrency = workflow.doc.concurrency;
  if (!concurrency?.group?.includes('github.workflow')) {
    return [`${workflow.file}: no concurrency group keyed by the workflow`];
  }
  if (!cancel) {
    return concurrency['cancel-in-progress'] === false
      ? []
      : [`${workflow.file}: must not cancel a run in progress (cancel-in-progress: false)`];
  }
  if (concurrency['cancel-in-progress'] !== true) {
    return [`${workflow.file}: concurrency does not cancel superseded runs (cancel-in-progress: true)`];
  }
  return [];
}

// ----------------------------------------------------------------------------------- run-script hygiene

/** `${{ }}` inside a shell script is script injection waiting to happen: values go through `env:`. */
export function checkNoExpressionsInRun(workflow: Workflow): string[] {
  return runScripts(workflow)
    .filter((r) => r.script.includes('${{'))
    .map((r) => `${r.where}: uses \${{ }} inside run: (pass it through env: instead)`);
}

// ------------------------------------------------------------------------------------ referenced paths

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.tmp', 'coverage']);

/** Every file and directory of the working tree (relative, `/`-separated), build output and deps left out. */
export function listRepoPaths(root: string): Set<string> {
  const paths = new Set<string>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP_DIRS.has(entry.name)) continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      paths.add(rel);
      if (entry.isDirectory()) walk(join(dir, entry.name), rel);
    }
  };
  walk(root, '');
  return paths;
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      source += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

interface Context {
  workflow: Workflow;
  job?: Job;
}

/** `${{ matrix.x }}`, `${{ inputs.x }}` and `${{ env.x }}` expanded where their values are known; the rest, and shell variables, become `*`. */
export function expandExpressions(text: string, { workflow, job }: Context): string[] {
  let variants = [text];
  const expression = /\$\{\{\s*([^}]*?)\s*\}\}/;
  for (let guard = 0; guard < 20; guard++) {
    const next: string[] = [];
    let changed = false;
    for (const variant of variants) {
      const match = expression.exec(variant);
      if (!match) {
        next.push(variant);
        continue;
      }
      changed = true;
      const inner = match[1] ?? '';
      const [, scope, key] = /^(matrix|inputs|env)\.([A-Za-z0-9_-]+)$/.exec(inner) ?? [];
      let values: string[] | null = null;
      if (scope === 'matrix' && job && key) values = matrixValues(job, key);
      if (scope === 'inputs' && key) values = choiceOptions(workflow, key);
      if (scope === 'env' && key) {
        const value = job?.env?.[key] ?? workflow.doc.env?.[key];
        values = value === undefined ? null : [String(value)];
      }
      for (const value of values ?? ['*']) next.push(variant.replace(match[0], value));
    }
    variants = next;
    if (!changed) break;
  }
  return variants.map((v) => v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '*'));
}

const PATH_TOKEN =
  /(?<![\w./@-])((?:\.github|helm|k8s|microservices)\/[^\s"'`;|&()<>,]*|docker-compose\.yml)(?![\w-])/g;

/** Repository paths named in a string (after expansion), without trailing punctuation. */
export function pathTokens(text: string): string[] {
  return [...text.matchAll(PATH_TOKEN)].map((m) => (m[1] ?? '').replace(/[.:]+$/, '').replace(/\/$/, ''));
}

function stringsOf(values: Record<string, Scalar> | undefined): string[] {
  return Object.values(values ?? {}).filter((v): v is string => typeof v === 'string');
}

function stepStrings(step: Step): string[] {
  return [step.run ?? '', ...stringsOf(step.with), ...stringsOf(step.env)].filter(Boolean);
}

function pathFilters(workflow: Workflow): string[] {
  const filters: string[] = [];
  for (const trigger of Object.values(workflow.doc.on ?? {})) {
    if (!isObject(trigger)) continue;
    for (const key of ['paths', 'paths-ignore']) {
      const list = trigger[key];
      if (Array.isArray(list)) filters.push(...list.map(String));
    }
  }
  return filters;
}

/**
 * Every repository path a workflow names — Dockerfiles, chart directories, k8s environments, scripts,
 * values files, path filters — exists. Chart directories must hold a Chart.yaml and k8s/<env> a
 * kustomization.yaml. Paths with a variable part must match at least one existing path.
 */
export function checkReferencedPaths(workflow: Workflow, root: string, paths: Set<string>): string[] {
  const problems = new Set<string>();
  const all = [...paths];
  const check = (token: string, where: string) => {
    const pattern = globToRegExp(token);
    const matches = token.includes('*')
      ? all.filter((p) => pattern.test(p))
      : paths.has(token)
        ? [token]
        : [];
    if (matches.length === 0) {
      problems.add(`${where}: ${token} does not exist`);
      return;
    }
    for (const match of matches) {
      const isDir = statSync(join(root, match)).isDirectory();
      if (/^helm\/[^/]+$/.test(match) && isDir && !existsSync(join(root, match, 'Chart.yaml'))) {
        problems.add(`${where}: ${match} is not a chart directory (no Chart.yaml)`);
      }
      if (/^k8s\/[^/]+$/.test(match) && isDir && !existsSync(join(root, match, 'kustomization.yaml'))) {
        problems.add(`${where}: ${match} is not a k8s environment (no kustomization.yaml)`);
      }
    }
  };
  for (const filter of pathFilters(workflow)) {
    if (!filter.startsWith('!')) check(filter, `${workflow.file} › path filter`);
  }
  for (const { jobId, job, step } of stepsOf(workflow)) {
    const where = `${workflow.file} › ${jobId} › ${step.name ?? step.uses ?? 'step'}`;
    for (const text of stepStrings(step)) {
      for (const variant of expandExpressions(text, { workflow, job })) {
        for (const token of pathTokens(variant)) check(token, where);
      }
    }
  }
  return [...problems];
}

// --------------------------------------------------------------------------------------- npm scripts

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
}

const readPackage = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** Root scripts and each workspace's, keyed by package name and by directory. */
export function packageScripts(root: string): { root: Set<string>; workspaces: Map<string, Set<string>> } {
  const rootPackage = readPackage(join(root, 'package.json'));
  const workspaces = new Map<string, Set<string>>();
  for (const dir of rootPackage.workspaces ?? []) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = readPackage(file);
    const scripts = new Set(Object.keys(pkg.scripts ?? {}));
    workspaces.set(dir, scripts);
    if (pkg.name) workspaces.set(pkg.name, scripts);
  }
  return { root: new Set(Object.keys(rootPackage.scripts ?? {})), workspaces };
}

const VALUE_FLAGS = new Set(['-w', '--workspace', '--prefix', '-C']);

/** Shell words of each simple command in a script (quotes stripped; `&&`, `;`, `|` split commands). */
function commands(script: string): string[][] {
  return script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .flatMap((line) => line.split(/&&|\|\||;|\|/))
    .map((command) =>
      (command.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, '')),
    );
}

/**
 * `npm run X` / `npm test` / `npm start` name a script of the root or of the workspaces given with -w;
 * `npx` runs only an installed binary (`--no-install`, present in node_modules/.bin).
 */
export function checkNpmScripts(workflow: Workflow, root: string): string[] {
  const problems: string[] = [];
  const scripts = packageScripts(root);
  for (const { where, script } of runScripts(workflow)) {
    for (const words of commands(script)) {
      const at = words.findIndex((w) => w === 'npm' || w === 'npx');
      if (at < 0) continue;
      const args = words.slice(at + 1);
      if (words[at] === 'npx') {
        const binary = args.find((w) => !w.startsWith('-'));
        if (!args.includes('--no-install'))
          problems.push(`${where}: npx without --no-install may download ${binary}`);
        if (binary && !existsSync(join(root, 'node_modules', '.bin', binary))) {
          problems.push(`${where}: npx ${binary}: no such binary in node_modules/.bin (not a dependency)`);
        }
        continue;
      }
      const positional: string[] = [];
      const workspaces: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const word = args[i] ?? '';
        if (word === '--') break;
        if (VALUE_FLAGS.has(word)) {
          if (word === '-w' || word === '--workspace') workspaces.push(args[i + 1] ?? '');
          i++;
        } else if (word.startsWith('--workspace=')) workspaces.push(word.slice('--workspace='.length));
        else if (!word.startsWith('-')) positional.push(word);
      }
      const [command, name] = positional;
      const scriptName =
        command === 'run' || command === 'run-script'
          ? name
          : command === 'test' || command === 't' || command === 'start'
            ? command === 't'
              ? 'test'
              : command
            : undefined;
      if (!scriptName) continue;
      if (workspaces.length === 0 && !scripts.root.has(scriptName)) {
        problems.push(`${where}: npm run ${scriptName}: no such script in package.json`);
      }
      for (const workspace of workspaces) {
        const available = scripts.workspaces.get(workspace.replace(/\/$/, ''));
        if (!available) problems.push(`${where}: workspace ${workspace} does not exist`);
        else if (!available.has(scriptName))
          problems.push(`${where}: workspace ${workspace} has no script ${scriptName}`);
      }
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------------- Node versions

/** Every Node version a workflow sets up (matrix expanded). */
export function nodeVersions(workflow: Workflow): string[] {
  const versions: string[] = [];
  for (const { job, step } of stepsOf(workflow)) {
    if (step.uses?.split('@')[0] !== 'actions/setup-node') continue;
    const value = step.with?.['node-version'];
    if (value === undefined || value === null) continue;
    versions.push(...expandExpressions(String(value), { workflow, job }));
  }
  return versions;
}

/** Each version line set up must lie wholly inside package.json `engines.node` (semver subset). */
export function checkNodeVersions(workflow: Workflow, engines: string): string[] {
  const problems: string[] = [];
  for (const version of nodeVersions(workflow)) {
    if (semver.validRange(version) === null)
      problems.push(`${workflow.file}: node-version "${version}" is not a version`);
    else if (!semver.subset(version, engines)) {
      problems.push(`${workflow.file}: node-version ${version} is outside engines.node "${engines}"`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------------ image build args

/** ARG names a Dockerfile declares (global and per stage). */
export function dockerfileArgs(file: string): Set<string> {
  const args = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(line);
    if (match?.[1]) args.add(match[1]);
  }
  return args;
}

/** Build args the builder sets by itself (BuildKit; the Dockerfile defaults BUILDPLATFORM for the classic one). */
const AUTOMATIC_ARGS = /^(BUILD|TARGET)(PLATFORM|OS|ARCH|VARIANT)$/;

/** ARGs a Dockerfile declares with no default anywhere: a build must pass them (SERVICE and PORT). */
export function dockerfileRequiredArgs(file: string): Set<string> {
  const withDefault = new Set<string>();
  const without = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(=?)/i.exec(line);
    if (!match?.[1] || AUTOMATIC_ARGS.test(match[1])) continue;
    (match[2] ? withDefault : without).add(match[1]);
  }
  return new Set([...without].filter((name) => !withDefault.has(name)));
}

/**
 * Build args passed to docker/build-push-action and `docker build -f … --build-arg` are ARGs of that
 * Dockerfile; every ARG it requires (no default) is passed; and SERVICE names a service, i.e. a folder
 * microservices/<SERVICE> with a package.json (each matrix value is checked; one known only at run time is not).
 */
export function checkBuildArgs(workflow: Workflow, root: string): string[] {
  const problems: string[] = [];
  let files: string[] | undefined;
  const checkArgs = (where: string, dockerfile: string, args: Map<string, string[]>) => {
    if (dockerfile.includes('*')) {
      // A matrix computed at run time: every Dockerfile it could name.
      files ??= [...listRepoPaths(root)];
      const pattern = globToRegExp(dockerfile);
      const matches = files.filter((f) => pattern.test(f));
      if (matches.length === 0) problems.push(`${where}: no Dockerfile matches ${dockerfile}`);
      for (const match of matches) checkArgs(where, match, args);
      return;
    }
    const file = join(root, dockerfile);
    if (!existsSync(file)) {
      problems.push(`${where}: ${dockerfile} does not exist`);
      return;
    }
    const declared = dockerfileArgs(file);
    for (const name of args.keys()) {
      if (!declared.has(name)) problems.push(`${where}: build arg ${name} is not an ARG of ${dockerfile}`);
    }
    for (const name of dockerfileRequiredArgs(file)) {
      if (!args.has(name))
        problems.push(`${where}: does not pass ${name}, a build arg ${dockerfile} requires`);
    }
    for (const service of args.get('SERVICE') ?? []) {
      if (service.includes('*')) continue;
      if (!existsSync(join(root, 'microservices', service, 'package.json')))
        problems.push(
          `${where}: build arg SERVICE=${service} names no service (no microservices/${service}/package.json)`,
        );
    }
  };
  /** NAME=value pairs → each name with the values its expressions can take. */
  const argMap = (pairs: string[], context: Context) => {
    const args = new Map<string, string[]>();
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      const name = at < 0 ? pair : pair.slice(0, at);
      if (!name) continue;
      const value = at < 0 ? '' : pair.slice(at + 1);
      args.set(name, [...(args.get(name) ?? []), ...expandExpressions(value, context)]);
    }
    return args;
  };
  for (const { jobId, job, step } of stepsOf(workflow)) {
    const where = `${workflow.file} › ${jobId} › ${step.name ?? step.uses ?? 'step'}`;
    if (step.uses?.split('@')[0] === 'docker/build-push-action') {
      const args = argMap(
        String(step.with?.['build-args'] ?? '')
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean),
        { workflow, job },
      );
      for (const dockerfile of expandExpressions(String(step.with?.file ?? 'Dockerfile'), {
        workflow,
        job,
      })) {
        checkArgs(where, dockerfile, args);
      }
    }
    for (const words of commands(step.run ?? '')) {
      const at = words.indexOf('docker');
      if (at < 0 || words[at + 1] !== 'build') continue;
      const fileAt = words.indexOf('-f');
      const dockerfile = fileAt > 0 ? (words[fileAt + 1] ?? 'Dockerfile') : 'Dockerfile';
      const pairs = words.flatMap((w, i) => (words[i - 1] === '--build-arg' ? [w] : []));
      checkArgs(where, dockerfile, argMap(pairs, { workflow, job }));
    }
  }
  return problems;
}
