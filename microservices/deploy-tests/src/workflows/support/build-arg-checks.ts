/** Docker build args a workflow passes are ARGs of that Dockerfile. Returns the problems found (empty = pass). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { globToRegExp, listRepoPaths } from './repo-paths.js';
import { expandExpressions, shellCommands } from './workflow-text.js';
import { stepsOf, type Workflow } from './workflows.js';

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
  const argMap = (pairs: string[], context: Parameters<typeof expandExpressions>[1]) => {
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
    for (const words of shellCommands(step.run ?? '')) {
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
