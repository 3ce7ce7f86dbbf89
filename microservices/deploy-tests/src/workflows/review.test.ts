// Issue 15, adversarial review: each finding as a behaviour that fails on the pipeline the review started
// from (REVIEWED, main at the time) and passes now. Scripts and workflow steps run for real, in scratch
// repositories (one of them with fresh history, as an adopter gets from a template), with stand-ins for the
// network tools (helm push, docker buildx, cosign).
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/deploy-paths.js';
import { ensureTools, runCommand } from '../support/tools.js';
import {
  changedFiles,
  commitAll,
  copyImages,
  PROMOTE_SCRIPT,
  renderK8s,
  setImages,
} from './support/promotion-scripts.js';
import { copyRepository, type RepoCopy } from './support/repo-copy.js';
import {
  githubDir,
  loadWorkflows,
  type Step,
  type Workflow,
  workflowByFile,
  workflowsAt,
} from './support/workflows.js';

const exec = promisify(execFile);
/** main when the review was made: the pipeline it found wanting. */
const REVIEWED = '2c99245613b3b725531d1a961dd89c3f483fb736';
const DIGEST_A = `sha256:${'a7'.repeat(32)}`;
const DIGEST_B = `sha256:${'b8'.repeat(32)}`;

let workflows: Workflow[];
let reviewed: Workflow[];
const temps: string[] = [];

beforeAll(async () => {
  workflows = await loadWorkflows();
  reviewed = await workflowsAt(REVIEWED);
});
afterAll(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

async function bumpChart(repo: RepoCopy, version: string) {
  const file = join(repo.dir, 'helm/microservice/Chart.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(/^version: .*$/m, `version: ${version}`));
  const render = await renderK8s(repo.dir, ['--env', 'dev']);
  expect(render.stderr).toBe('');
  expect(render.code).toBe(0);
}

/** Pins dev to DIGEST_A (user-service) and DIGEST_B (order-service) under `tag`, and commits. */
async function pinDevImages(repo: RepoCopy, tag: string) {
  const set = await setImages(repo, 'dev', tag, { 'user-service': DIGEST_A, 'order-service': DIGEST_B });
  expect(set.code).toBe(0);
  await commitAll(repo, 'dev images');
}

const step = (workflow: Workflow, job: string, pattern: RegExp): Step | undefined =>
  (workflow.doc.jobs[job]?.steps ?? []).find((s) => pattern.test(`${s.name ?? ''}\n${s.run ?? ''}`));

/** A directory of stand-in commands that log their arguments to $STUB_LOG. */
async function stubs(names: Record<string, string>) {
  const bin = await tempDir('stub-bin-');
  for (const [name, body] of Object.entries(names)) {
    const file = join(bin, name);
    await writeFile(file, `#!/usr/bin/env bash\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`);
    await chmod(file, 0o755);
  }
  return bin;
}

describe('finding 1: a recorded chart commit that is not on main', () => {
  it('fresh history (a template): CI names the bootstrap, a dev deploy still works, bootstrap fixes staging and prod', async () => {
    const repo = await copyRepository({ freshHistory: true });
    try {
      const check = await renderK8s(repo.dir, ['--check']);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(
        /k8s\/(staging|prod)\/chart-source\.yaml records chart commit [0-9a-f]{40}, which is not in this clone/,
      );
      expect(check.stderr).toMatch(/promote-image\.mjs bootstrap/);
      expect(check.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

      // staging and prod cannot render, and a dev deploy does not care.
      const set = await setImages(repo, 'dev', 'sha-1111111', { 'user-service': DIGEST_A });
      expect(set.stderr).toBe('');
      expect(set.code).toBe(0);
      expect(await changedFiles(repo)).toEqual([
        'k8s/dev/user-service/manifests.yaml',
        'k8s/dev/user-service/values.yaml',
      ]);
      await commitAll(repo, 'dev: deploy user-service');

      const head = await repo.git('rev-parse', 'HEAD');
      const boot = await repo.node(PROMOTE_SCRIPT, ['bootstrap']);
      expect(boot.stderr).toBe('');
      expect(boot.code).toBe(0);
      for (const env of ['staging', 'prod']) {
        expect(await readFile(join(repo.dir, `k8s/${env}/chart-source.yaml`), 'utf8')).toContain(
          `commit: "${head}"`,
        );
        expect(await readFile(join(repo.dir, `k8s/${env}/user-service/manifests.yaml`), 'utf8')).toContain(
          `# chart source: ${head} `,
        );
      }
      expect((await changedFiles(repo)).every((f) => /^k8s\/(staging|prod)\//.test(f))).toBe(true);
      await commitAll(repo, 'bootstrap');
      const after = await renderK8s(repo.dir, ['--check']);
      expect(after.stderr).toBe('');
      expect(after.code).toBe(0);
    } finally {
      await repo.remove();
    }
  });

  it('a promotion recorded on a branch, then squash-merged: the pull request, main and the next promotion refuse', async () => {
    const repo = await copyRepository();
    try {
      await repo.git('checkout', '--quiet', '-b', 'feature');
      await bumpChart(repo, '0.7.0');
      const branchChart = await commitAll(repo, 'chart 0.7.0');
      const promote = await copyImages(repo, 'dev', 'staging', '--chart-only');
      // On the branch, dev's chart is a commit main does not have: with main as the base it is refused.
      expect(promote.code).toBe(0); // no base branch configured and no origin/main: HEAD is the base
      await commitAll(repo, 'promote on the branch');
      const pr = await renderK8s(repo.dir, ['--check'], 'main');
      expect(pr.code).toBe(1);
      expect(pr.stderr).toContain(
        `k8s/staging/chart-source.yaml records chart commit ${branchChart}, which is not an ancestor of main`,
      );
      const refused = await repo.node(
        PROMOTE_SCRIPT,
        ['copy', '--from', 'dev', '--to', 'staging', '--chart-only'],
        { CHART_SOURCE_BASE: 'main' },
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`dev's chart source .*: commit ${branchChart} is not an ancestor of main`),
      );

      await repo.git('checkout', '--quiet', 'main');
      await repo.git('merge', '--quiet', '--squash', 'feature');
      await repo.git('commit', '--quiet', '--message', 'squashed');
      await repo.git('branch', '--quiet', '-D', 'feature');
      // The branch's commits are still in the object store (git cat-file -e finds them): only ancestry tells.
      await repo.git('cat-file', '-e', `${branchChart}^{commit}`);
      const main = await renderK8s(repo.dir, ['--check']);
      expect(main.code).toBe(1);
      expect(main.stderr).toContain(
        `k8s/staging/chart-source.yaml records chart commit ${branchChart}, which is not an ancestor of HEAD`,
      );
      const next = await copyImages(repo, 'staging', 'prod');
      expect(next.code).toBe(1);
      expect(next.stderr).toContain(
        `k8s/staging/chart-source.yaml: commit ${branchChart} is not an ancestor`,
      );
      // Promoting again from main repairs staging (the target's own broken render does not block it).
      const repair = await copyImages(repo, 'dev', 'staging', '--chart-only');
      expect(repair.stderr).toBe('');
      expect(repair.code).toBe(0);
      await commitAll(repo, 'promote from main');
      expect((await renderK8s(repo.dir, ['--check'])).code).toBe(0);
    } finally {
      await repo.remove();
    }
  });

  it('CI checks the recorded commits against the base branch of the pull request', () => {
    const lint = step(workflowByFile(workflows, 'ci.yml'), 'lint', /render-k8s .*--check/);
    expect(lint?.env?.CHART_SOURCE_BASE).toBe(`origin/\${{ github.base_ref || github.ref_name }}`);
    expect(step(workflowByFile(reviewed, 'ci.yml'), 'lint', /render-k8s .*--check/)?.env).toBeUndefined();
  });

  it('the manual explains the bootstrap for fresh history', async () => {
    const manual = await readFile(join(repoRoot, 'MICROSERVICES_README.md'), 'utf8');
    const at = manual.indexOf('### Adopting the pipeline with fresh history');
    expect(at).toBeGreaterThan(0);
    const section = manual.slice(at, manual.indexOf('\n### ', at + 1));
    expect(section).toContain('node .github/scripts/promote-image.mjs bootstrap');
  });
});

describe('finding 6: promoting one service never moves the chart under the others', () => {
  it('copy --service refuses while the chart source would change; after --chart-only it promotes that service alone', async () => {
    const repo = await copyRepository();
    try {
      await pinDevImages(repo, 'sha-2222222');
      await bumpChart(repo, '0.8.0');
      await commitAll(repo, 'chart 0.8.0');

      const one = await copyImages(repo, 'dev', 'staging', '--service', 'user-service');
      expect(one.code).toBe(1);
      expect(one.stderr).toMatch(/would also move the chart of every service in staging/);
      expect(one.stderr).toMatch(/--chart-only/);
      expect(await changedFiles(repo)).toEqual([]);

      expect((await copyImages(repo, 'dev', 'staging', '--chart-only')).code).toBe(0);
      await commitAll(repo, 'staging chart');
      const now = await copyImages(repo, 'dev', 'staging', '--service', 'user-service');
      expect(now.stderr).toBe('');
      expect(now.code).toBe(0);
      expect(await changedFiles(repo)).toEqual([
        'k8s/staging/user-service/manifests.yaml',
        'k8s/staging/user-service/values.yaml',
      ]);
    } finally {
      await repo.remove();
    }
  });
});

describe("finding 2: the released chart is exactly prod's", () => {
  /** Runs the chart job's script in a scratch repository; returns the files `helm package` was given. */
  async function packagedFiles(workflow: Workflow) {
    const script = step(workflow, 'chart', /helm package/)?.run;
    if (!script) throw new Error(`${workflow.file}: no chart step`);
    const dir = await tempDir('chart-job-');
    const git = (...args: string[]) =>
      exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
    await git('init', '--quiet', '--initial-branch=main');
    await mkdir(join(dir, 'helm/microservice/templates'), { recursive: true });
    await mkdir(join(dir, 'docs'), { recursive: true });
    await writeFile(
      join(dir, 'helm/microservice/Chart.yaml'),
      'apiVersion: v2\nname: microservice\nversion: 0.1.0\n',
    );
    await writeFile(join(dir, 'helm/microservice/templates/deployment.yaml'), 'kind: Deployment\n');
    await writeFile(join(dir, 'docs/dashboard.json'), '{}\n');
    await symlink('../../docs/dashboard.json', join(dir, 'helm/microservice/dashboard.json'));
    await git('add', '--all');
    await git('commit', '--quiet', '--message', 'prod runs this');
    const prodCommit = (await git('rev-parse', 'HEAD')).stdout.trim();
    await writeFile(join(dir, 'helm/microservice/templates/added-later.yaml'), 'kind: ConfigMap\n');
    await git('add', '--all');
    await git('commit', '--quiet', '--message', 'a template prod never ran');
    const log = join(dir, '.git', 'stub.log');
    const bin = await stubs({
      helm: [
        'if [ "$1" = registry ]; then cat >/dev/null; fi',
        'if [ "$1" = package ]; then (cd "$2" && find -L . -type f | sort) > "$STUB_LOG.packaged"; fi',
      ].join('\n'),
    });
    const result = await runCommand('bash', ['-eo', 'pipefail', '-c', script], {
      cwd: dir,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: process.env.HOME,
        STUB_LOG: log,
        RUNNER_TEMP: await tempDir('runner-temp-'),
        CHART_COMMIT: prodCommit,
        REF_NAME: 'v1.2.3',
        OWNER: 'Example-Org',
        ACTOR: 'bot',
        TOKEN: 'token',
      },
    });
    // (the reviewed `git checkout` reports "Updated 2 paths" on stderr)
    expect(result.code, result.stderr).toBe(0);
    return (await readFile(`${log}.packaged`, 'utf8')).split('\n').filter(Boolean);
  }

  it('packages the chart of the recorded commit: no file added since, symlinks resolved', async () => {
    expect(await packagedFiles(workflowByFile(workflows, 'release.yml'))).toEqual([
      './Chart.yaml',
      './dashboard.json',
      './templates/deployment.yaml',
    ]);
  });

  it('the reviewed `git checkout <commit> -- helm/microservice` packaged a template prod never ran (negative)', async () => {
    expect(await packagedFiles(workflowByFile(reviewed, 'release.yml'))).toContain(
      './templates/added-later.yaml',
    );
  });
});

describe('finding 3: key signing survives a cosign-installer major', () => {
  const installers = (workflow: Workflow) =>
    Object.values(workflow.doc.jobs).flatMap((job) =>
      (job.steps ?? []).filter((s) => s.uses?.split('@')[0] === 'sigstore/cosign-installer'),
    );

  it('every cosign-installer pins cosign v2, and Dependabot leaves the installer major alone', async () => {
    const found = installers(workflowByFile(workflows, 'release.yml'));
    expect(found.length).toBeGreaterThan(0);
    for (const installer of found)
      expect(String(installer.with?.['cosign-release'])).toMatch(/^v2\.\d+\.\d+$/);
    const dependabot = parse(await readFile(join(githubDir, 'dependabot.yml'), 'utf8')) as {
      updates: Array<{ 'package-ecosystem': string; ignore?: Array<Record<string, unknown>> }>;
    };
    const actions = dependabot.updates.find((u) => u['package-ecosystem'] === 'github-actions');
    expect(actions?.ignore).toContainEqual({
      'dependency-name': 'sigstore/cosign-installer',
      'update-types': ['version-update:semver-major'],
    });
  });

  it('the reviewed release.yml took whatever cosign the installer defaults to (negative)', () => {
    for (const installer of installers(workflowByFile(reviewed, 'release.yml')))
      expect(installer.with?.['cosign-release']).toBeUndefined();
  });
});

describe('finding 7: a release tags only a signed digest of a commit on main, and no floating tag for prereleases', () => {
  async function tagRun(env: NodeJS.ProcessEnv, script?: string) {
    const dir = await tempDir('release-tag-');
    const log = join(dir, 'stub.log');
    const bin = await stubs({ docker: '', cosign: `[ -z "\${COSIGN_FAILS:-}" ] || exit 1` });
    const result = await runCommand(
      'bash',
      script ? ['-eo', 'pipefail', '-c', script] : [join(repoRoot, '.github/scripts/release-tag.sh')],
      {
        cwd: repoRoot,
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          STUB_LOG: log,
          GITHUB_STEP_SUMMARY: join(dir, 'summary'),
          REFS: `ghcr.io/o/user-service@${DIGEST_A}\nghcr.io/o/order-service@${DIGEST_B}\n`,
          CERTIFICATE_IDENTITY: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main',
          ...env,
        },
      },
    );
    const calls = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return { ...result, calls };
  }

  it('the tag job runs release-tag.sh after checking out main and verifying the tagged commit is on it', () => {
    const release = workflowByFile(workflows, 'release.yml');
    const job = release.doc.jobs['tag-images'];
    const steps = job?.steps ?? [];
    expect(steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.['fetch-depth']).toBe(0);
    const onMain = steps.findIndex((s) =>
      /git merge-base --is-ancestor "\$GITHUB_SHA" origin\/main/.test(s.run ?? ''),
    );
    const tag = steps.findIndex((s) => /release-tag\.sh/.test(s.run ?? ''));
    expect(onMain).toBeGreaterThanOrEqual(0);
    expect(tag).toBeGreaterThan(onMain);
    expect(
      (workflowByFile(reviewed, 'release.yml').doc.jobs['tag-images']?.steps ?? []).some((s) =>
        /merge-base --is-ancestor/.test(s.run ?? ''),
      ),
    ).toBe(false);
  });

  it('the on-main step refuses a tag on a commit main does not have', async () => {
    const script =
      step(workflowByFile(workflows, 'release.yml'), 'tag-images', /merge-base --is-ancestor/)?.run ?? '';
    const dir = await tempDir('on-main-');
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })
      ).stdout.trim();
    await git('init', '--quiet', '--initial-branch=main');
    await git('commit', '--quiet', '--allow-empty', '--message', 'main');
    const onMain = await git('rev-parse', 'HEAD');
    await git('update-ref', 'refs/remotes/origin/main', onMain);
    await git('checkout', '--quiet', '-b', 'side');
    await git('commit', '--quiet', '--allow-empty', '--message', 'side');
    const side = await git('rev-parse', 'HEAD');
    const run = (sha: string) =>
      runCommand('bash', ['-eo', 'pipefail', '-c', script], {
        cwd: dir,
        env: { PATH: process.env.PATH, GITHUB_SHA: sha, GITHUB_REF_NAME: 'v9.9.9' },
      });
    expect((await run(onMain)).code).toBe(0);
    const refused = await run(side);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error::v9\.9\.9 .* is not on main/);
  });

  it('a final release verifies each digest, then tags <version> and <major>.<minor>', async () => {
    const run = await tagRun({ REF_NAME: 'v1.3.0', PUBLIC: 'true' });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      `cosign verify --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/o/user-service@${DIGEST_A}`,
      `docker buildx imagetools create --tag ghcr.io/o/user-service:1.3.0 --tag ghcr.io/o/user-service:1.3 ghcr.io/o/user-service@${DIGEST_A}`,
      `cosign verify --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/o/order-service@${DIGEST_B}`,
      `docker buildx imagetools create --tag ghcr.io/o/order-service:1.3.0 --tag ghcr.io/o/order-service:1.3 ghcr.io/o/order-service@${DIGEST_B}`,
    ]);
  });

  it('a prerelease gets its version only; a private repository verifies with its public key', async () => {
    const run = await tagRun({ REF_NAME: 'v1.3.0-rc.1', PUBLIC: 'false', COSIGN_PUBLIC_KEY: 'key' });
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => c.startsWith('docker'))).toEqual([
      `docker buildx imagetools create --tag ghcr.io/o/user-service:1.3.0-rc.1 ghcr.io/o/user-service@${DIGEST_A}`,
      `docker buildx imagetools create --tag ghcr.io/o/order-service:1.3.0-rc.1 ghcr.io/o/order-service@${DIGEST_B}`,
    ]);
    expect(run.calls.filter((c) => c.startsWith('cosign'))[0]).toBe(
      `cosign verify --key env://COSIGN_PUBLIC_KEY --insecure-ignore-tlog=true ghcr.io/o/user-service@${DIGEST_A}`,
    );
  });

  it('an unverifiable digest gets no tag; a tag that is not semver is refused', async () => {
    const unsigned = await tagRun({ REF_NAME: 'v1.3.0', PUBLIC: 'true', COSIGN_FAILS: '1' });
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.calls.some((c) => c.startsWith('docker'))).toBe(false);
    const bad = await tagRun({ REF_NAME: 'vnext', PUBLIC: 'true' });
    expect(bad.code).toBe(1);
    expect(bad.calls).toEqual([]);
  });

  it('a private repository without COSIGN_PUBLIC_KEY releases unverified with a warning, or fails when REQUIRE_SIGNATURES is true', async () => {
    const warned = await tagRun({ REF_NAME: 'v1.3.0', PUBLIC: 'false' });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/::warning::.*released unverified/);
    const required = await tagRun({ REF_NAME: 'v1.3.0', PUBLIC: 'false', REQUIRE_SIGNATURES: 'true' });
    expect(required.code).not.toBe(0);
    expect(required.stderr).toMatch(/::error::REQUIRE_SIGNATURES is true/);
    expect(required.calls).toEqual([]);
  });

  it('the image job fails without a signing key when REQUIRE_SIGNATURES is true, and only warns otherwise', async () => {
    const noSignature = step(
      workflowByFile(workflows, 'release.yml'),
      'image',
      /no COSIGN_PRIVATE_KEY secret/,
    );
    expect(noSignature?.env?.REQUIRE_SIGNATURES).toMatch(/^\$\{\{ vars\.REQUIRE_SIGNATURES \}\}$/);
    const tagStep = step(workflowByFile(workflows, 'release.yml'), 'tag-images', /release-tag\.sh/);
    expect(tagStep?.env?.REQUIRE_SIGNATURES).toMatch(/^\$\{\{ vars\.REQUIRE_SIGNATURES \}\}$/);
    const verifyStep = step(
      workflowByFile(workflows, 'ci.yml'),
      'promoted-digests',
      /verify-promoted-digests\.sh/,
    );
    expect(verifyStep?.env?.REQUIRE_SIGNATURES).toMatch(/^\$\{\{ vars\.REQUIRE_SIGNATURES \}\}$/);
    const run = (env: NodeJS.ProcessEnv) =>
      runCommand('bash', ['-eo', 'pipefail', '-c', noSignature?.run ?? 'exit 9'], {
        env: { PATH: process.env.PATH, ...env },
      });
    const warned = await run({ REQUIRE_SIGNATURES: '' });
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/::warning::/);
    const required = await run({ REQUIRE_SIGNATURES: 'true' });
    expect(required.code).toBe(1);
    expect(required.stdout).toMatch(/::error::/);
  });

  it('the reviewed tag step moved <major>.<minor> to a prerelease and verified nothing (negative)', async () => {
    const script =
      step(workflowByFile(reviewed, 'release.yml'), 'tag-images', /imagetools create/)?.run ?? '';
    const run = await tagRun({ REF_NAME: 'v1.3.0-rc.1' }, script);
    expect(run.code).toBe(0);
    expect(run.calls[0]).toContain('--tag ghcr.io/o/user-service:1.3 ');
    expect(run.calls.some((c) => c.startsWith('cosign'))).toBe(false);
  });
});

describe('finding 10 and 13: Release by hand; tags only after the signature', () => {
  it('release.yml can be run by hand', () => {
    expect('workflow_dispatch' in workflowByFile(workflows, 'release.yml').doc.on).toBe(true);
    expect('workflow_dispatch' in workflowByFile(reviewed, 'release.yml').doc.on).toBe(false);
  });

  const order = (workflow: Workflow) => {
    const steps = workflow.doc.jobs.image?.steps ?? [];
    const at = (pattern: RegExp) => steps.findIndex((s) => pattern.test(s.run ?? ''));
    return {
      tag: at(/imagetools create/),
      signs: steps.map((s, i) => ({ s, i })).filter(({ s }) => /cosign sign /.test(s.run ?? '')),
      attest: steps.findIndex((s) => s.uses?.startsWith('actions/attest-build-provenance@')),
    };
  };

  it('sha-<7> and main are applied after every signature and the attestation', () => {
    const { tag, signs, attest } = order(workflowByFile(workflows, 'release.yml'));
    expect(signs.length).toBe(2);
    expect(signs.every(({ i }) => i < tag)).toBe(true);
    expect(attest).toBeLessThan(tag);
  });

  it('the reviewed release.yml tagged before signing (negative)', () => {
    const { tag, signs } = order(workflowByFile(reviewed, 'release.yml'));
    expect(signs.every(({ i }) => i > tag)).toBe(true);
  });
});

describe("finding 11: a release publishes the image references prod's manifests run", () => {
  it("HEAD's values-common.yaml naming another owner changes nothing in what prod releases", async () => {
    const repo = await copyRepository();
    try {
      await pinDevImages(repo, 'sha-3333333');
      expect((await copyImages(repo, 'dev', 'staging')).code).toBe(0);
      await commitAll(repo, 'staging');
      expect((await copyImages(repo, 'staging', 'prod')).code).toBe(0);
      await commitAll(repo, 'prod');
      const common = join(repo.dir, 'k8s/values-common.yaml');
      await writeFile(
        common,
        (await readFile(common, 'utf8')).replace(/^ {2}owner: .*$/m, '  owner: moved-org'),
      );
      await commitAll(repo, 'a new owner, not promoted yet');

      const release = await repo.node('.github/scripts/release-refs.mjs', ['--env', 'prod']);
      expect(release.stderr).toBe('');
      expect(release.stdout).toContain(`ghcr.io/example-org/user-service@${DIGEST_A}`);
      expect(release.stdout).toContain(`ghcr.io/example-org/order-service@${DIGEST_B}`);
      expect(release.stdout).not.toContain('moved-org');
      const wrongOwner = await repo.node('.github/scripts/release-refs.mjs', [
        '--env',
        'prod',
        '--owner',
        'moved-org',
      ]);
      expect(wrongOwner.code).toBe(1);
      expect(wrongOwner.stderr).toMatch(/owner "example-org", but the images are pushed under "moved-org"/);

      // A values.yaml digest the manifests do not run (edited, not re-rendered) is refused.
      const values = join(repo.dir, 'k8s/prod/user-service/values.yaml');
      await writeFile(
        values,
        (await readFile(values, 'utf8')).replace(DIGEST_A, `sha256:${'c9'.repeat(32)}`),
      );
      const stale = await repo.node('.github/scripts/release-refs.mjs', ['--env', 'prod']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/manifests\.yaml runs .*, not one image pinned to sha256:c9/);
    } finally {
      await repo.remove();
    }
  });
});

describe('finding 4: the GitOps job on a private repository', () => {
  it('gives Argo CD a repository Secret with the workflow token when the repository is not public', async () => {
    const gitops = workflowByFile(workflows, 'e2e.yml').doc.jobs.gitops?.steps ?? [];
    const credentialAt = gitops.findIndex((s) => /gitops-repo-credential\.sh/.test(s.run ?? ''));
    const applyAt = gitops.findIndex((s) => /kubectl apply -n argocd -k/.test(s.run ?? ''));
    const credential = gitops[credentialAt];
    expect(credentialAt).toBeGreaterThanOrEqual(0);
    expect(credentialAt).toBeLessThan(applyAt);
    expect(credential?.if).toBe("github.event.repository.visibility != 'public'");
    expect(credential?.env?.REPO_TOKEN).toBe(`\${{ secrets.GITHUB_TOKEN }}`);

    const { kubectl } = await ensureTools();
    const bin = await tempDir('kubectl-bin-');
    await symlink(kubectl, join(bin, 'kubectl'));
    const result = await runCommand(
      'bash',
      ['.github/scripts/gitops-repo-credential.sh', 'https://github.com/o/private.git'],
      {
        cwd: repoRoot,
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, REPO_TOKEN: 'ghs_t0ken' },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const secret = parse(result.stdout) as {
      kind: string;
      metadata: { namespace: string; labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata.namespace).toBe('argocd');
    expect(secret.metadata.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'repository' });
    const data = Object.fromEntries(
      Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(data).toEqual({
      type: 'git',
      url: 'https://github.com/o/private.git',
      username: 'x-access-token',
      password: 'ghs_t0ken',
    });
    expect(
      (workflowByFile(reviewed, 'e2e.yml').doc.jobs.gitops?.steps ?? []).some((s) =>
        /secret-type|repo-credential/.test(s.run ?? ''),
      ),
    ).toBe(false);
  });

  it("the manual's troubleshooting names the step that exists", async () => {
    const manual = await readFile(join(repoRoot, 'MICROSERVICES_README.md'), 'utf8');
    const name = (workflowByFile(workflows, 'e2e.yml').doc.jobs.gitops?.steps ?? []).find((s) =>
      /gitops-repo-credential\.sh/.test(s.run ?? ''),
    )?.name;
    expect(name).toBeDefined();
    expect(manual).toContain(`"${name}"`);
    expect(manual).not.toContain('a `kubectl create secret` step labelled');
  });
});

describe('finding 5: promotion tokens that work, and a loud warning when they are missing', () => {
  const jobs = (list: Workflow[]) => [
    workflowByFile(list, 'promote.yml').doc.jobs['pull-request'],
    workflowByFile(list, 'release.yml').doc.jobs['promote-dev'],
  ];

  it('promote.yml and promote-dev mint an App token when configured, prefer it, and warn on GITHUB_TOKEN', () => {
    for (const job of jobs(workflows)) {
      const steps = job?.steps ?? [];
      const app = steps.find((s) => s.uses?.split('@')[0] === 'actions/create-github-app-token');
      expect(app?.id).toBe('app-token');
      expect(app?.if).toBe("env.HAS_PROMOTION_APP == 'true'");
      expect(String(job?.env?.HAS_PROMOTION_APP)).toMatch(/secrets\.PROMOTION_APP_PRIVATE_KEY != ''/);
      const tokens = steps.map((s) => String(s.with?.token ?? '')).filter((t) => t.includes('GITHUB_TOKEN'));
      expect(tokens.length).toBeGreaterThan(0);
      for (const token of tokens)
        expect(token).toBe(
          `\${{ steps.app-token.outputs.token || secrets.PROMOTION_TOKEN || secrets.GITHUB_TOKEN }}`,
        );
      const warning = steps.find((s) => /::warning::/.test(s.run ?? '') && /GITHUB_TOKEN/.test(s.run ?? ''));
      expect(warning?.if).toBe("env.HAS_PROMOTION_APP != 'true' && env.HAS_PROMOTION_TOKEN != 'true'");
    }
  });

  it('the reviewed workflows fell back silently (negative)', () => {
    for (const job of jobs(reviewed))
      expect((job?.steps ?? []).some((s) => /::warning::.*GITHUB_TOKEN/.test(s.run ?? ''))).toBe(false);
  });
});

describe('finding 8: a hand-edited staging or prod digest fails the pull request unless release.yml signed it', () => {
  async function scratch() {
    const dir = await tempDir('promoted-digests-');
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })
      ).stdout.trim();
    const write = async (env: string, service: string, digest: string, rendered = digest) => {
      await mkdir(join(dir, 'k8s', env, service), { recursive: true });
      await writeFile(
        join(dir, 'k8s', env, service, 'values.yaml'),
        `image:\n  tag: "sha-1"\n  digest: "${digest}"\n`,
      );
      await writeFile(
        join(dir, 'k8s', env, service, 'manifests.yaml'),
        `        - name: ${service}\n          image: "ghcr.io/o/${service}:sha-1@${rendered}"\n`,
      );
    };
    await git('init', '--quiet', '--initial-branch=main');
    await write('staging', 'user-service', DIGEST_A);
    await write('prod', 'order-service', DIGEST_A);
    await git('add', '--all');
    await git('commit', '--quiet', '--message', 'base');
    return { dir, git, write, base: await git('rev-parse', 'HEAD') };
  }
  const verify = async (dir: string, base: string, env: NodeJS.ProcessEnv = {}) => {
    const log = join(dir, '.git', 'stub.log');
    const bin = await stubs({ cosign: `[ -z "\${COSIGN_FAILS:-}" ] || exit 1`, docker: '' });
    const result = await runCommand(
      'bash',
      [join(repoRoot, '.github/scripts/verify-promoted-digests.sh'), base],
      {
        cwd: dir,
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          STUB_LOG: log,
          PUBLIC: 'true',
          CERTIFICATE_IDENTITY: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main',
          ...env,
        },
      },
    );
    return { ...result, calls: (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean) };
  };

  it('CI verifies each changed digest by the name the manifests run; unchanged ones are left alone', async () => {
    const job = workflowByFile(workflows, 'ci.yml').doc.jobs['promoted-digests'];
    expect(job?.if).toBe("github.event_name == 'pull_request'");
    expect((job?.steps ?? []).some((s) => /verify-promoted-digests\.sh "\$BASE"/.test(s.run ?? ''))).toBe(
      true,
    );
    expect(workflowByFile(reviewed, 'ci.yml').doc.jobs['promoted-digests']).toBeUndefined();

    const { dir, git, write, base } = await scratch();
    expect((await verify(dir, base)).calls).toEqual([]);
    await write('staging', 'user-service', DIGEST_B);
    await git('commit', '--quiet', '--all', '--message', 'staging by hand');
    const run = await verify(dir, base);
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      `cosign verify --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/o/user-service@${DIGEST_B}`,
    ]);
    const unsigned = await verify(dir, base, { COSIGN_FAILS: '1' });
    expect(unsigned.code).not.toBe(0);
  });

  it('a digest the manifests do not run (edited, not rendered) fails', async () => {
    const { dir, git, write, base } = await scratch();
    await write('prod', 'order-service', DIGEST_B, DIGEST_A);
    await git('commit', '--quiet', '--all', '--message', 'prod values only');
    const run = await verify(dir, base);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/k8s\/prod\/order-service\/manifests\.yaml does not run sha256:b8/);
    expect(run.calls).toEqual([]);
  });

  it('a tag changed without a digest, or a digest removed, fails: the tag alone would name an unverified image (adopter review)', async () => {
    for (const values of [
      'image:\n  tag: "anything"\n  digest: ""\n',
      'image:\n  tag: "sha-1"\n  digest: ""\n',
    ]) {
      const { dir, git, base } = await scratch();
      await writeFile(join(dir, 'k8s', 'prod', 'order-service', 'values.yaml'), values);
      await git('commit', '--quiet', '--all', '--message', 'prod by hand');
      const run = await verify(dir, base);
      expect(run.code, values).toBe(1);
      expect(run.stderr).toMatch(
        /k8s\/prod\/order-service\/values\.yaml names image tag "[^"]+" without a digest/,
      );
      expect(run.calls).toEqual([]);
    }
  });

  it('a values file without a digest before and after, its tag unchanged, is left alone (a fresh clone’s staging)', async () => {
    const { dir, git } = await scratch();
    const file = join(dir, 'k8s', 'staging', 'user-service', 'values.yaml');
    await writeFile(file, 'image:\n  tag: "1.0.0"\n  digest: ""\n');
    await git('commit', '--quiet', '--all', '--message', 'no digest yet');
    const from = await git('rev-parse', 'HEAD');
    await writeFile(file, '# staging\nimage:\n  tag: "1.0.0"\n  digest: ""\n');
    await git('commit', '--quiet', '--all', '--message', 'a comment');
    const run = await verify(dir, from);
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([]);
  });
});
