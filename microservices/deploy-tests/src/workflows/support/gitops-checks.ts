/**
 * Issue 15's promises about the pipeline, as checks returning problems (empty = pass), so that each can be
 * shown to fail on a mutated workflow (and on the workflows before the issue was fixed).
 */
import { isObject } from '../../support/manifests.js';
import type { Job, Step, Workflow } from './workflows.js';

const uses = (action: string) => (step: Step) => step.uses?.split('@')[0] === action;
const str = (value: unknown) => (value === undefined || value === null ? '' : String(value));

/** Commands that render k8s/ (and so need the commits k8s/staging and k8s/prod record). */
const RENDERS = /render-k8s|npm test\b|promote-image\.mjs|promote-dev\.sh/;

/** Defect 1: every job that renders checks out the whole history (the recorded chart commits). */
export function checkFullHistoryWhereRendered(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(workflow.doc.jobs)) {
    const steps = job.steps ?? [];
    if (!steps.some((s) => RENDERS.test(s.run ?? ''))) continue;
    const checkout = steps.find(uses('actions/checkout'));
    if (str(checkout?.with?.['fetch-depth']) !== '0') {
      problems.push(
        `${workflow.file} › ${id}: renders k8s/ but checks out a shallow history (fetch-depth: 0 is needed: ` +
          'staging and prod are rendered from the chart commit they record)',
      );
    }
  }
  return problems;
}

const jobIf = (job: Job | undefined) => str(job?.if);
const needsOf = (job: Job | undefined) =>
  Array.isArray(job?.needs) ? job.needs : job?.needs ? [job.needs] : [];

/** Whether a job (or a job it needs, transitively) only runs for branch pushes, never for tags. */
function branchOnly(workflow: Workflow, id: string, seen = new Set<string>()): boolean {
  if (seen.has(id)) return false;
  seen.add(id);
  const job = workflow.doc.jobs[id];
  if (/github\.ref_type == 'branch'|github\.ref == 'refs\/heads\/main'/.test(jobIf(job))) return true;
  return needsOf(job).some((n) => branchOnly(workflow, n, seen));
}

/** Defect 2 (and 5's scan): build once, scan every platform before any public tag, release by re-tagging. */
export function checkBuildOnce(workflow: Workflow): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  const jobs = Object.entries(workflow.doc.jobs);
  const builders = jobs.filter(([, job]) => (job.steps ?? []).some(uses('docker/build-push-action')));
  expect(builders.length > 0, 'no job builds the images');
  for (const [id, job] of builders) {
    expect(
      branchOnly(workflow, id),
      `${id}: builds images on tag pushes too (a release must re-tag, never rebuild)`,
    );
    const steps = job.steps ?? [];
    const buildAt = steps.findIndex(uses('docker/build-push-action'));
    const build = steps[buildAt];
    const outputs = str(build?.with?.outputs);
    expect(
      /push-by-digest=true/.test(outputs) && !str(build?.with?.tags).includes('steps.meta.outputs.tags'),
      `${id}: the build pushes under public tags before the scan (push by digest only: outputs push-by-digest=true, no metadata tags)`,
    );
    const platforms = str(build?.with?.platforms)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const scans = steps.map((s, i) => ({ s, i })).filter(({ s }) => uses('anchore/scan-action')(s));
    for (const platform of platforms) {
      expect(
        scans.some(({ s }) => str(s.env?.GRYPE_PLATFORM) === platform),
        `${id}: ${platform} is built but never scanned (a scan of an index sees only one platform: set GRYPE_PLATFORM per platform)`,
      );
    }
    const tagAt = steps.findIndex((s) => /imagetools create/.test(s.run ?? ''));
    expect(tagAt > buildAt, `${id}: the scanned digest is never tagged (docker buildx imagetools create)`);
    expect(
      scans.length > 0 && scans.every(({ i }) => i < tagAt),
      `${id}: every scan must come before the digest gets a public tag`,
    );
    expect(
      !steps.some(uses('docker/setup-qemu-action')),
      `${id}: QEMU is set up: the build stage runs on the build platform, nothing needs emulation`,
    );
  }
  const tagJobs = jobs.filter(([, job]) => jobIf(job).includes("github.ref_type == 'tag'"));
  const retag = tagJobs.find(([, job]) =>
    // release-tag.sh holds the imagetools call (run for real by review.test.ts).
    (job.steps ?? []).some((s) => /imagetools create|crane tag|oras tag|release-tag\.sh/.test(s.run ?? '')),
  );
  expect(!!retag, 'no tag job re-tags the promoted digests (imagetools create / crane tag / oras tag)');
  if (retag) {
    expect(
      (retag[1].steps ?? []).some((s) => /release-refs\.mjs --env prod/.test(s.run ?? '')),
      `${retag[0]}: must re-tag what k8s/prod runs (release-refs.mjs --env prod)`,
    );
  }
  const chart = jobs.find(([, job]) => (job.steps ?? []).some((s) => /helm push/.test(s.run ?? '')));
  expect(
    !!chart && !!retag && needsOf(chart[1]).includes(retag[0]),
    'the chart job must need the job that publishes the images',
  );
  const cancel = workflow.doc.concurrency?.['cancel-in-progress'];
  expect(
    cancel === false,
    'cancel-in-progress must be false: a cancelled run on main pushes images and never pins dev to them',
  );
  return problems;
}

/** Defect 3: private repositories. Digest recorded at once; signing and attestation follow visibility. */
export function checkPrivateRepositories(workflow: Workflow): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  for (const [id, job] of Object.entries(workflow.doc.jobs)) {
    const steps = job.steps ?? [];
    const buildAt = steps.findIndex(uses('docker/build-push-action'));
    if (buildAt < 0) continue;
    const next = steps[buildAt + 1];
    expect(
      /digests/.test(next?.run ?? '') &&
        str(next?.env?.DIGEST).includes(`steps.${steps[buildAt]?.id}.outputs.digest`),
      `${id}: the digest must be recorded in the step right after the push`,
    );
    const jobEnv = Object.entries(job.env ?? {})
      .map(([k, v]) => `${k}=${str(v)}`)
      .join('\n');
    const visibility = (step: Step | undefined) =>
      /visibility/.test(str(step?.if)) ||
      (/env\.PUBLIC/.test(str(step?.if)) && /PUBLIC=.*visibility == 'public'/.test(jobEnv));
    const keyless = steps.find((s) => /cosign sign --yes "\$\{IMAGE\}@\$\{DIGEST\}"/.test(s.run ?? ''));
    expect(!!keyless && visibility(keyless), `${id}: keyless signing must only run on public repositories`);
    const keyed = steps.find((s) => /cosign sign .*--key /.test(s.run ?? ''));
    expect(!!keyed, `${id}: no key-based signature for private repositories`);
    expect(
      /--tlog-upload=false/.test(keyed?.run ?? ''),
      `${id}: key-based signing must keep off the public log`,
    );
    const attest = steps.find(uses('actions/attest-build-provenance'));
    expect(
      !!attest && (/ATTEST/.test(str(attest.if)) || visibility(attest)) && /ATTEST=.*visibility/.test(jobEnv),
      `${id}: attestation must depend on visibility (public, or Enterprise Cloud via a variable)`,
    );
  }
  const promote = workflow.doc.jobs['promote-dev'];
  const run = (promote?.steps ?? []).find((s) => /promote-dev\.sh/.test(s.run ?? ''));
  expect(
    !!run,
    'promote-dev: must run .github/scripts/promote-dev.sh (checks every built service has a digest)',
  );
  expect(
    str(run?.env?.EXPECTED).includes('needs.changes.outputs.services'),
    'promote-dev: EXPECTED must be the services the run built',
  );
  expect(
    !/no image was published/.test(workflow.text),
    'promote-dev: "no image was published" must not be a success',
  );
  expect(
    !/git pull --rebase/.test(workflow.text),
    'promote-dev: git pull --rebase keeps manifests rendered from the old main',
  );
  return problems;
}

/** Defect 4: a required workflow starts on every pull request, and every required job exists. */
export function checkRequiredChecks(
  workflows: readonly Workflow[],
  required: Record<string, string[]>,
): string[] {
  const problems: string[] = [];
  for (const [file, jobs] of Object.entries(required)) {
    const workflow = workflows.find((w) => w.file === file);
    if (!workflow) {
      problems.push(`required-checks.yml names ${file}, which does not exist`);
      continue;
    }
    const pr = workflow.doc.on.pull_request;
    if (!(pr === null || isObject(pr))) problems.push(`${file}: required, but does not run on pull requests`);
    if (isObject(pr)) {
      for (const filter of ['paths', 'paths-ignore', 'branches-ignore'] as const) {
        if (filter in pr)
          problems.push(
            `${file}: required, but its pull_request trigger has a ${filter} filter: a pull request it filters out waits forever`,
          );
      }
      if ('branches' in pr && !(pr.branches as unknown[]).includes('main'))
        problems.push(`${file}: required, but does not run for pull requests into main`);
    }
    for (const job of jobs) {
      if (!workflow.doc.jobs[job]) problems.push(`${file}: required job ${job} does not exist`);
    }
  }
  return problems;
}
