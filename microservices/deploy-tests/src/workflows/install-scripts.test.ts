import { beforeAll, describe, expect, it } from 'vitest';
import { loadWorkflows, type Workflow } from './support/workflows.js';

let workflows: Workflow[] = [];
beforeAll(async () => {
  workflows = await loadWorkflows();
});

/** A job that can write to the repository: its token may push, so code it runs could push too. */
const writesContents = (job: Workflow['doc']['jobs'][string]) =>
  JSON.stringify(job).includes('PROMOTION_TOKEN') ||
  /contents: *write/.test(JSON.stringify(job.permissions ?? {}));

describe('dependency install scripts never run beside a token that can push', () => {
  it('every job holding a promotion token or contents: write installs with npm ci --ignore-scripts', () => {
    const writers = workflows.flatMap((w) =>
      Object.entries(w.doc.jobs)
        .filter(([, job]) => writesContents(job))
        .map(([id, job]) => ({ where: `${w.file} › ${id}`, job })),
    );
    // promote.yml › pull-request and release.yml › promote-dev at least.
    expect(writers.map((w) => w.where)).toEqual(
      expect.arrayContaining(['promote.yml › pull-request', 'release.yml › promote-dev']),
    );
    for (const { where, job } of writers) {
      for (const step of job.steps ?? []) {
        const run = String(step.run ?? '');
        if (/\bnpm (ci|install|i)\b/.test(run)) expect(run, where).toMatch(/--ignore-scripts/);
      }
    }
  });
});
