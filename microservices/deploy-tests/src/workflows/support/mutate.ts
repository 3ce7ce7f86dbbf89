import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkflows, type Workflow, workflowsDir } from './workflows.js';

const created: string[] = [];

/**
 * A copy of a real workflow with one edit, written to `<temp>/.github/workflows/` and loaded back the way
 * the checks load the real ones. Fails when `from` is not in the file, so a negative test cannot pass
 * vacuously after the workflow changes.
 */
export async function mutatedWorkflow(file: string, from: string | RegExp, to: string): Promise<Workflow> {
  const text = await readFile(join(workflowsDir, file), 'utf8');
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`${file} does not contain ${String(from)}: update the negative test`);
  const root = await mkdtemp(join(tmpdir(), 'workflow-mutant-'));
  created.push(root);
  const dir = join(root, '.github', 'workflows');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, file),
    typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to),
  );
  const [workflow] = await loadWorkflows(dir);
  if (!workflow) throw new Error(`could not load the mutated ${file}`);
  return workflow;
}

/** Deletes every temp dir `mutatedWorkflow` created (call from afterAll). */
export async function removeMutants(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
