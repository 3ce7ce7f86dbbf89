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

/** Build args passed to docker/build-push-action and `docker build -f … --build-arg` are ARGs of that Dockerfile. */
export function checkBuildArgs(workflow: Workflow, root: string): string[] {
  const problems: string[] = [];
  let files: string[] | undefined;
  const checkArgs = (where: string, dockerfile: string, names: string[]) => {
    if (dockerfile.includes('*')) {
      // A matrix computed at run time: every Dockerfile it could name.
      files ??= [...listRepoPaths(root)];
      const pattern = globToRegExp(dockerfile);
      const matches = files.filter((f) => pattern.test(f));
      if (matches.length === 0) problems.push(`${where}: no Dockerfile matches ${dockerfile}`);
      for (const match of matches) checkArgs(where, match, names);
      return;
    }
    const file = join(root, dockerfile);
    if (!existsSync(file)) {
      problems.push(`${where}: ${dockerfile} does not exist`);
      return;
    }
    const declared = dockerfileArgs(file);
    for (const name of names) {
      if (!declared.has(name)) problems.push(`${where}: build arg ${name} is not an ARG of ${dockerfile}`);
    }
  };
  for (const { jobId, job, step } of stepsOf(workflow)) {
    const where = `${workflow.file} › ${jobId} › ${step.name ?? step.uses ?? 'step'}`;
    if (step.uses?.split('@')[0] === 'docker/build-push-action') {
      const names = String(step.with?.['build-args'] ?? '')
        .split('\n')
        .map((line) => line.trim().split('=')[0] ?? '')
        .filter(Boolean);
      for (const dockerfile of expandExpressions(String(step.with?.file ?? 'Dockerfile'), {
        workflow,
        job,
      })) {
        checkArgs(where, dockerfile, names);
      }
    }
    for (const words of shellCommands(step.run ?? '')) {
      const at = words.indexOf('docker');
      if (at < 0 || words[at + 1] !== 'build') continue;
      const fileAt = words.indexOf('-f');
      const dockerfile = fileAt > 0 ? (words[fileAt + 1] ?? 'Dockerfile') : 'Dockerfile';
      const names = words.flatMap((w, i) => (words[i - 1] === '--build-arg' ? [w.split('=')[0] ?? ''] : []));
      checkArgs(where, dockerfile, names);
    }
  }
  return problems;
}
