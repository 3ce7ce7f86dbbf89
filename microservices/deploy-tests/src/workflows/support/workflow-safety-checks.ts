/**
 * What a workflow may do and when: actions pinned to a commit, the token's write scopes, concurrency, and no
 * `${{ }}` inside shell scripts. Each returns the problems it found (empty = pass), so a test can show that
 * the real workflows pass and a mutated one fails.
 */
import { isObject } from '../../support/manifests.js';
import { type Job, runScripts, type Workflow } from './workflows.js';

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

/** `${{ }}` inside a shell script is script injection waiting to happen: values go through `env:`. */
export function checkNoExpressionsInRun(workflow: Workflow): string[] {
  return runScripts(workflow)
    .filter((r) => r.script.includes('${{'))
    .map((r) => `${r.where}: uses \${{ }} inside run: (pass it through env: instead)`);
}
