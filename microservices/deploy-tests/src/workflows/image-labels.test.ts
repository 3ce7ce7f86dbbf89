import { beforeAll, describe, expect, it } from 'vitest';
import { loadWorkflows, type Workflow } from './support/workflows.js';

let workflows: Workflow[] = [];
beforeAll(async () => {
  workflows = await loadWorkflows();
});

describe('image labels come from the Dockerfile alone', () => {
  it('no docker/build-push-action step passes labels (metadata-action’s would override version, description and licence)', () => {
    const builds = workflows.flatMap((w) =>
      Object.entries(w.doc.jobs).flatMap(([id, job]) =>
        (job.steps ?? [])
          .filter((s) => s.uses?.split('@')[0] === 'docker/build-push-action')
          .map((s) => ({ where: `${w.file} › ${id}`, step: s })),
      ),
    );
    expect(builds.map((b) => b.where)).toContain('release.yml › image');
    for (const { where, step } of builds) expect(step.with ?? {}, where).not.toHaveProperty('labels');
  });
});
