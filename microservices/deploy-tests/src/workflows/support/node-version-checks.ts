/** The Node versions workflows set up lie inside `engines.node`. Returns the problems found (empty = pass). */
import semver from 'semver';
import { expandExpressions } from './workflow-text.js';
import { stepsOf, type Workflow } from './workflows.js';

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
