/**
 * Every repository path a workflow names exists. Returns the problems it found (empty = pass), so a test can
 * show that the real workflows pass and a mutated one fails.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObject } from '../../support/manifests.js';
import { globToRegExp } from './repo-paths.js';
import { expandExpressions } from './workflow-text.js';
import { type Scalar, type Step, stepsOf, type Workflow } from './workflows.js';

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
