import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from '../../support/deploy-paths.js';
import { isObject } from '../../support/manifests.js';

export const githubDir = join(repoRoot, '.github');
export const workflowsDir = join(githubDir, 'workflows');
export const scriptsDir = join(githubDir, 'scripts');
/** The workflows issue #6 asks for; a missing one fails the tests (actionlint alone passes on no files). */
export const WORKFLOW_FILES = ['ci.yml', 'release.yml', 'promote.yml', 'e2e.yml'] as const;

export type Scalar = string | number | boolean | null;

export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, Scalar>;
  env?: Record<string, Scalar>;
}

export interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  permissions?: string | Record<string, string>;
  strategy?: { matrix?: string | Record<string, unknown> };
  env?: Record<string, Scalar>;
  outputs?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, Scalar> }>;
  steps?: Step[];
}

export interface WorkflowDocument {
  name?: string;
  on: Record<string, unknown>;
  permissions?: string | Record<string, string>;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  env?: Record<string, Scalar>;
  jobs: Record<string, Job>;
}

export interface Workflow {
  /** File name, e.g. release.yml. */
  file: string;
  text: string;
  doc: WorkflowDocument;
}

/** Parses one workflow; `on:` stays a string key (YAML 1.2, as GitHub reads it). */
export function parseWorkflow(file: string, text: string): Workflow {
  const doc: unknown = parse(text);
  if (!isObject(doc) || !isObject(doc.jobs)) throw new Error(`${file}: not a workflow (no jobs)`);
  return { file, text, doc: doc as unknown as WorkflowDocument };
}

/** Every *.yml workflow in `dir`, by file name. */
export async function loadWorkflows(dir = workflowsDir): Promise<Workflow[]> {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort();
  return Promise.all(files.map(async (file) => parseWorkflow(file, await readFile(join(dir, file), 'utf8'))));
}

/** WORKFLOW_FILES as they were at `commit` of this repository: the pipeline a negative test starts from. */
export function workflowsAt(commit: string): Promise<Workflow[]> {
  return Promise.all(
    WORKFLOW_FILES.map(async (file) => {
      const { stdout } = await promisify(execFile)('git', ['show', `${commit}:.github/workflows/${file}`], {
        cwd: repoRoot,
        maxBuffer: 4 * 1024 * 1024,
      });
      return parseWorkflow(file, stdout);
    }),
  );
}

export function workflowByFile(workflows: readonly Workflow[], file: string): Workflow {
  const found = workflows.find((w) => w.file === file);
  if (!found) throw new Error(`.github/workflows/${file} is missing`);
  return found;
}

export interface RunScript {
  where: string;
  script: string;
  shell: string;
}

/** Every `run:` block, with where it is (workflow › job › step) and the shell GitHub runs it with. */
export function runScripts(workflow: Workflow): RunScript[] {
  const scripts: RunScript[] = [];
  for (const [jobId, job] of Object.entries(workflow.doc.jobs)) {
    (job.steps ?? []).forEach((step, index) => {
      if (typeof step.run !== 'string') return;
      scripts.push({
        where: `${workflow.file} › ${jobId} › ${step.name ?? step.id ?? `step ${index + 1}`}`,
        script: step.run,
        shell: step.shell ?? 'bash',
      });
    });
  }
  return scripts;
}

export function stepsOf(workflow: Workflow): Array<{ jobId: string; job: Job; step: Step }> {
  return Object.entries(workflow.doc.jobs).flatMap(([jobId, job]) =>
    (job.steps ?? []).map((step) => ({ jobId, job, step })),
  );
}

/** Steps using an action, by its `owner/repo` (the part before `@`). */
export function stepsUsing(workflow: Workflow, action: string) {
  return stepsOf(workflow).filter(({ step }) => step.uses?.split('@')[0] === action);
}

/** The string values of a job's matrix dimension, or null when the matrix is computed at run time. */
export function matrixValues(job: Job, key: string): string[] | null {
  const matrix = job.strategy?.matrix;
  if (!isObject(matrix)) return null;
  const values = matrix[key];
  if (!Array.isArray(values)) return null;
  return values.map((v) => String(v));
}

/** The options of a `workflow_dispatch` choice input, or null. */
export function choiceOptions(workflow: Workflow, input: string): string[] | null {
  const dispatch = workflow.doc.on.workflow_dispatch;
  if (!isObject(dispatch) || !isObject(dispatch.inputs)) return null;
  const spec = dispatch.inputs[input];
  if (!isObject(spec) || spec.type !== 'choice' || !Array.isArray(spec.options)) return null;
  return spec.options.map(String);
}
