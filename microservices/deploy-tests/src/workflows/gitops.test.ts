// Issue 15: build once, promote everything an environment runs, safe on private repositories, required checks
// that always report, one owner per namespace, prod behind CODEOWNERS and a sync window. Each promise is a
// check that passes on the workflows and fails on the ones before the issue (and on a mutant).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expandApplicationSet } from '../support/argocd.js';
import { k8sDir, repoRoot } from '../support/deploy-paths.js';
import { ENVIRONMENTS } from '../support/helm.js';
import { one } from '../support/manifests.js';
import { loadArgoCd } from '../support/renders.js';
import { runCommand } from '../support/tools.js';
import {
  checkBuildOnce,
  checkFullHistoryWhereRendered,
  checkPrivateRepositories,
  checkRequiredChecks,
} from './support/gitops-checks.js';
import { mutatedWorkflow, removeMutants } from './support/mutate.js';
import {
  changedFiles,
  copyImages,
  lastChartCommit,
  renderK8s,
  setImages,
} from './support/promotion-scripts.js';
import { copyRepository, type RepoCopy, useRepositoryCopy } from './support/repo-copy.js';
import { githubDir, loadWorkflows, type Workflow, workflowByFile, workflowsAt } from './support/workflows.js';

const exec = promisify(execFile);
/** The commit issue 15 started from: its workflows are the ones the issue found wanting. */
const BEFORE = 'e83392f9e960fd7beebcd91199badf40ff5de9b3';
const DIGEST_A = `sha256:${'e5'.repeat(32)}`;
const DIGEST_B = `sha256:${'f6'.repeat(32)}`;

let workflows: Workflow[];
let before: Workflow[];
const required = parse(readFileSync(join(githubDir, 'required-checks.yml'), 'utf8')) as Record<
  string,
  string[]
>;

beforeAll(async () => {
  workflows = await loadWorkflows();
  before = await workflowsAt(BEFORE);
});
afterAll(removeMutants);

describe('defect 1: jobs that render k8s/ have the recorded chart commits', () => {
  it('every job running render-k8s, npm test or a promotion script checks out the whole history', () => {
    expect(workflows.flatMap(checkFullHistoryWhereRendered)).toEqual([]);
  });

  it('fails on the workflows before issue 15 and on a shallow CI lint job (negative)', async () => {
    expect(before.flatMap(checkFullHistoryWhereRendered).join('\n')).toMatch(/ci\.yml › lint: renders k8s\//);
    const shallow = await mutatedWorkflow('ci.yml', /fetch-depth: 0\n/, '');
    expect(checkFullHistoryWhereRendered(shallow).join('\n')).toMatch(/ci\.yml › lint/);
  });
});

describe('defect 2 and 5: build once, scan every platform before a public tag, release by re-tagging', () => {
  it('release.yml builds on main only, by digest, scans amd64 and arm64, tags after, re-tags on v*, never cancels', () => {
    expect(checkBuildOnce(workflowByFile(workflows, 'release.yml'))).toEqual([]);
  });

  it('fails on the release.yml before issue 15', () => {
    const problems = checkBuildOnce(workflowByFile(before, 'release.yml')).join('\n');
    expect(problems).toMatch(/builds images on tag pushes too/);
    expect(problems).toMatch(/pushes under public tags before the scan/);
    expect(problems).toMatch(/linux\/arm64 is built but never scanned/);
    expect(problems).toMatch(/chart job must need/);
    expect(problems).toMatch(/cancel-in-progress must be false/);
    expect(problems).toMatch(/QEMU is set up/);
  });

  it.each([
    [
      'cancelling on main',
      'cancel-in-progress: false',
      'cancel-in-progress: true',
      /cancel-in-progress must be false/,
    ],
    ['a chart without its images', '    needs: tag-images\n', '', /chart job must need/],
    [
      'one platform unscanned',
      'GRYPE_PLATFORM: linux/arm64',
      'GRYPE_PLATFORM: linux/amd64',
      /linux\/arm64 is built but never scanned/,
    ],
    ['building on tags', "    if: github.ref == 'refs/heads/main'\n", '', /builds images on tag pushes too/],
  ])('fails on %s (negative)', async (_what, from, to, problem) => {
    expect(checkBuildOnce(await mutatedWorkflow('release.yml', from, to)).join('\n')).toMatch(problem);
  });
});

describe('defect 3: private repositories', () => {
  it('digest recorded right after the push; keyless signing and attestation by visibility; key-based otherwise', () => {
    expect(checkPrivateRepositories(workflowByFile(workflows, 'release.yml'))).toEqual([]);
  });

  it('fails on the release.yml before issue 15', () => {
    const problems = checkPrivateRepositories(workflowByFile(before, 'release.yml')).join('\n');
    expect(problems).toMatch(/recorded in the step right after the push/);
    expect(problems).toMatch(/keyless signing must only run on public/);
    expect(problems).toMatch(/no key-based signature/);
    expect(problems).toMatch(/attestation must depend on visibility/);
    expect(problems).toMatch(/no image was published/);
    expect(problems).toMatch(/git pull --rebase/);
  });
});

describe('defect 4: every required check always reports', () => {
  it('the required workflows start on every pull request (no paths filter) and the required jobs exist', () => {
    expect(Object.keys(required).sort()).toEqual(['ci.yml', 'e2e.yml']);
    expect(checkRequiredChecks(workflows, required)).toEqual([]);
  });

  it('fails on the e2e.yml before issue 15, and on a paths filter added to a required workflow (negative)', async () => {
    expect(checkRequiredChecks(before, { 'e2e.yml': ['kind'] }).join('\n')).toMatch(
      /e2e\.yml: required, but its pull_request trigger has a paths filter/,
    );
    const filtered = await mutatedWorkflow(
      'ci.yml',
      'on:\n  pull_request:\n',
      'on:\n  pull_request:\n    paths: ["microservices/**"]\n',
    );
    expect(checkRequiredChecks([filtered], { 'ci.yml': ['lint'] }).join('\n')).toMatch(/paths filter/);
  });

  it('the manual names every required job as GitHub shows it', () => {
    const manual = readFileSync(join(repoRoot, 'MICROSERVICES_README.md'), 'utf8');
    const section = manual.slice(manual.indexOf('### Required checks'));
    expect(section.length).toBeGreaterThan(0);
    for (const [file, jobs] of Object.entries(required)) {
      for (const id of jobs) {
        const name = String(workflowByFile(workflows, file).doc.jobs[id]?.name ?? id).replace(
          /\$\{\{ matrix\.\w+ \}\}/,
          '',
        );
        expect(section, `${file} › ${id}`).toContain(name.split('(')[0]?.trim());
      }
    }
  });

  it('paths-changed.mjs: a k8s/-only change skips the kind job, a chart change runs it, no base runs it', async () => {
    const repo = await copyRepository();
    try {
      const base = await repo.git('rev-parse', 'HEAD');
      const args = [
        '--pattern',
        'helm/**',
        '--pattern',
        'microservices/**',
        '--pattern',
        '.github/scripts/e2e-*',
      ];
      await writeFile(join(repo.dir, 'k8s/staging/values.yaml'), '# promotion\n', { flag: 'a' });
      await repo.git('commit', '--quiet', '--all', '--message', 'k8s only');
      const output = join(repo.dir, '.git', 'out');
      const k8sOnly = await repo.node('.github/scripts/paths-changed.mjs', ['--base', base, ...args], {
        GITHUB_OUTPUT: output,
      });
      expect(k8sOnly.code).toBe(0);
      expect(await readFile(output, 'utf8')).toBe('changed=false\n');
      await writeFile(join(repo.dir, 'helm/microservice/Chart.yaml'), '# chart\n', { flag: 'a' });
      await writeFile(join(repo.dir, '.github/scripts/e2e-scale.sh'), '# script\n', { flag: 'a' });
      await repo.git('commit', '--quiet', '--all', '--message', 'chart');
      const chart = await repo.node('.github/scripts/paths-changed.mjs', ['--base', base, ...args]);
      expect(chart.stdout.split('\n').filter(Boolean).sort()).toEqual([
        '.github/scripts/e2e-scale.sh',
        'helm/microservice/Chart.yaml',
      ]);
      const none = await repo.node('.github/scripts/paths-changed.mjs', ['--base', '0'.repeat(40), ...args], {
        GITHUB_OUTPUT: `${output}2`,
      });
      expect(await readFile(`${output}2`, 'utf8')).toBe('changed=true\n');
      expect(none.stderr).toMatch(/no usable base/);
    } finally {
      await repo.remove();
    }
  });
});

describe('defect 3 and 7: promote-dev.sh, run for real against a scratch remote', () => {
  let repo: RepoCopy;
  let remote: string;
  let digests: string;

  beforeAll(async () => {
    repo = await copyRepository();
    remote = `${repo.dir}.remote.git`;
    await exec('git', ['clone', '--quiet', '--bare', repo.dir, remote]);
    await repo.git('remote', 'add', 'origin', remote);
    digests = join(repo.dir, '.git', 'digests');
    await mkdir(digests, { recursive: true });
  });
  afterAll(async () => {
    await repo.remove();
    await exec('rm', ['-rf', remote]);
  });

  const run = (env: NodeJS.ProcessEnv) =>
    runCommand('bash', ['.github/scripts/promote-dev.sh'], {
      cwd: repo.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GIT_AUTHOR_NAME: 'bot',
        GIT_AUTHOR_EMAIL: 'bot@example.com',
        GIT_COMMITTER_NAME: 'bot',
        GIT_COMMITTER_EMAIL: 'bot@example.com',
        DIGESTS_DIR: digests,
        OWNER: 'Example-Org',
        ...env,
      },
    });
  const remoteFile = async (path: string) =>
    (await exec('git', ['--git-dir', remote, 'show', `main:${path}`], { maxBuffer: 8 * 1024 * 1024 })).stdout;

  it('a built service without a digest fails the run; the one that has its digest still reaches dev', async () => {
    const source = await repo.git('rev-parse', 'HEAD');
    await writeFile(join(digests, 'user-service'), `${DIGEST_A}\n`);
    const result = await run({ EXPECTED: '["order-service","user-service"]', SOURCE_COMMIT: source });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/built but no digest recorded for: order-service/);
    expect(await remoteFile('k8s/dev/user-service/values.yaml')).toContain(DIGEST_A);
    expect(await remoteFile('k8s/dev/order-service/values.yaml')).not.toContain('sha256:');
  });

  it('when main moved (a chart change merged meanwhile), promotes again on the new main: dev rendered from the new chart', async () => {
    // Someone else's chart change lands on the remote after this job checked out main.
    const other = `${repo.dir}.other`;
    await exec('git', ['clone', '--quiet', remote, other]);
    try {
      await exec('ln', ['-s', join(repoRoot, 'node_modules'), join(other, 'node_modules')]);
      const chartYaml = join(other, 'helm/microservice/Chart.yaml');
      await writeFile(
        chartYaml,
        (await readFile(chartYaml, 'utf8')).replace(/^version: 0\.1\.0$/m, 'version: 0.4.0'),
      );
      const render = await renderK8s(other);
      expect(render.code).toBe(0);
      const git = (...args: string[]) =>
        exec('git', ['-c', 'user.name=o', '-c', 'user.email=o@example.com', ...args], { cwd: other });
      await git('add', 'helm', 'k8s');
      await git('commit', '--quiet', '--message', 'chart: 0.4.0');
      await git('push', '--quiet', 'origin', 'HEAD:main');
    } finally {
      await exec('rm', ['-rf', other]);
    }
    // This job's checkout is the old main (without the chart change and the previous promotion).
    const source = await repo.git('rev-parse', 'HEAD');
    await writeFile(join(digests, 'order-service'), `${DIGEST_B}\n`);
    const result = await run({
      EXPECTED: '["order-service","user-service"]',
      SOURCE_COMMIT: source,
      RUN_URL: 'https://example.com/run/1',
    });
    expect(result.stderr).toMatch(/push rejected \(attempt 1\)/);
    expect(result.code).toBe(0);
    const dev = await remoteFile('k8s/dev/order-service/manifests.yaml');
    expect(dev).toContain(`@${DIGEST_B}`);
    expect(dev).toContain('helm.sh/chart: microservice-0.4.0');
    expect(dev).not.toContain('helm.sh/chart: microservice-0.1.0');
    const log = (await exec('git', ['--git-dir', remote, 'log', '-1', '--format=%B', 'main'])).stdout;
    expect(log).toContain('Release-Run: https://example.com/run/1');
    // And the tip of main passes CI's manifest check.
    await repo.git('fetch', '--quiet', 'origin', 'main');
    await repo.git('reset', '--quiet', '--hard', 'FETCH_HEAD');
    const check = await renderK8s(repo.dir, ['--check']);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('defect 7: the first promotion, and what a release publishes', () => {
  const repo = useRepositoryCopy();

  it('staging and prod pin no digest yet: a release refuses, saying to promote first', async () => {
    const result = await repo.node('.github/scripts/release-refs.mjs', ['--env', 'prod']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /k8s\/prod\/(order|user)-service\/values\.yaml pins no digest.*promote to prod first/,
    );
  });

  it('copy without a digest in dev points at --chart-only; --chart-only moves the chart source alone', async () => {
    const refused = await copyImages(repo, 'dev', 'staging');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pins no digest[\s\S]*--chart-only promotes the chart alone/);
    const chart = await copyImages(repo, 'dev', 'staging', '--chart-only');
    expect(chart.stderr).toBe('');
    expect(chart.code).toBe(0);
    expect(await changedFiles(repo)).toEqual([
      'k8s/staging/chart-source.yaml',
      'k8s/staging/order-service/manifests.yaml',
      'k8s/staging/user-service/manifests.yaml',
    ]);
    await repo.reset();
  });

  it('after dev → staging → prod, a release re-tags exactly the digests prod runs and its chart commit', async () => {
    const set = await setImages(repo, 'dev', 'sha-1111111', {
      'user-service': DIGEST_A,
      'order-service': DIGEST_B,
    });
    expect(set.code).toBe(0);
    await repo.git('commit', '--quiet', '--all', '--message', 'dev');
    expect((await copyImages(repo, 'dev', 'staging')).code).toBe(0);
    await repo.git('commit', '--quiet', '--all', '--message', 'staging');
    expect((await copyImages(repo, 'staging', 'prod')).code).toBe(0);
    await repo.git('commit', '--quiet', '--all', '--message', 'prod');
    const output = join(repo.dir, '.git', 'release-output');
    const result = await repo.node(
      '.github/scripts/release-refs.mjs',
      ['--env', 'prod', '--owner', 'Example-Org'],
      { GITHUB_OUTPUT: output },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const chartCommit = await lastChartCommit(repo);
    expect(await readFile(output, 'utf8')).toBe(
      `refs<<RELEASE_REFS_END\nghcr.io/example-org/order-service@${DIGEST_B}\nghcr.io/example-org/user-service@${DIGEST_A}\nRELEASE_REFS_END\nchart-commit=${chartCommit}\n`,
    );
  });
});

describe('defect 7: one owner per namespace, CODEOWNERS for prod, a sync window for prod', () => {
  it('in each environment exactly one Application manages the namespace metadata, with k8s/<env>/namespace.yaml’s labels', async () => {
    const apps = expandApplicationSet(one(await loadArgoCd(), 'ApplicationSet'));
    for (const env of ENVIRONMENTS) {
      const owners = apps.filter(
        (a) =>
          a.element.env === env &&
          (a.spec.syncPolicy as { managedNamespaceMetadata?: unknown })?.managedNamespaceMetadata,
      );
      expect(
        owners.map((a) => a.name),
        env,
      ).toEqual([`user-service-${env}`]);
      const policy = owners[0]?.spec.syncPolicy as
        | { managedNamespaceMetadata?: { labels?: Record<string, string> } }
        | undefined;
      const managed = policy?.managedNamespaceMetadata?.labels;
      const namespace = parse(readFileSync(join(k8sDir, env, 'namespace.yaml'), 'utf8')) as {
        metadata: { labels: Record<string, string> };
      };
      expect(managed).toEqual(namespace.metadata.labels);
    }
  });

  it('the ApplicationSet before issue 15 gave every Application the namespace metadata (negative)', async () => {
    const { stdout } = await exec('git', ['show', `${BEFORE}:k8s/argocd/applicationset.yaml`], {
      cwd: repoRoot,
    });
    const apps = expandApplicationSet(parse(stdout));
    const owners = apps.filter(
      (a) =>
        a.element.env === 'dev' &&
        (a.spec.syncPolicy as { managedNamespaceMetadata?: unknown })?.managedNamespaceMetadata,
    );
    expect(owners.length).toBe(2);
  });

  it('CODEOWNERS gives k8s/prod and the Argo CD apps an owner, after the catch-all (the last match wins)', () => {
    const file = join(githubDir, 'CODEOWNERS');
    expect(existsSync(file)).toBe(true);
    const rules = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/));
    const at = (path: string) => rules.findIndex(([pattern]) => pattern === path);
    for (const path of ['/k8s/prod/', '/k8s/argocd/', '/.github/CODEOWNERS']) {
      expect(at(path), path).toBeGreaterThan(at('*'));
      expect(
        rules[at(path)]?.slice(1).every((o) => /^@[\w.-]+(\/[\w.-]+)?$/.test(o)),
        path,
      ).toBe(true);
    }
  });

  it('the AppProject lets prod sync only inside an allow window; dev and staging are not in it', async () => {
    const project = one(await loadArgoCd(), 'AppProject');
    const windows = (project.spec as { syncWindows?: Array<Record<string, unknown>> }).syncWindows ?? [];
    expect(windows.length).toBeGreaterThan(0);
    const apps = expandApplicationSet(one(await loadArgoCd(), 'ApplicationSet'));
    const glob = (pattern: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    for (const w of windows) {
      expect(w.kind).toBe('allow');
      expect(String(w.schedule).split(' ')).toHaveLength(5);
      expect(String(w.duration)).toMatch(/^\d+[hm]$/);
      const matched = apps.filter((a) => (w.applications as string[]).some((p) => glob(p).test(a.name)));
      expect(matched.map((a) => a.element.env).sort()).toEqual(['prod', 'prod']);
    }
  });
});

describe('defect 6: Renovate refreshes the ARG-pinned base image digests', () => {
  const config = JSON.parse(readFileSync(join(githubDir, 'renovate.json'), 'utf8')) as {
    customManagers: Array<{
      customType: string;
      managerFilePatterns: string[];
      matchStrings: string[];
      datasourceTemplate: string;
    }>;
    enabledManagers: string[];
  };

  it('its regex manager finds both base images of the Dockerfile, with tag and digest', () => {
    expect(config.enabledManagers).toContain('custom.regex');
    const [manager] = config.customManagers;
    expect(manager?.customType).toBe('regex');
    expect(manager?.datasourceTemplate).toBe('docker');
    const path = 'microservices/Dockerfile';
    expect(
      manager?.managerFilePatterns.some((p) => new RegExp(p.slice(1, -1)).test(path)),
      path,
    ).toBe(true);
    const text = readFileSync(join(repoRoot, path), 'utf8');
    const args = [...text.matchAll(/^ARG ([A-Z_]+_IMAGE)=(\S+)$/gm)].map((m) => m[2]);
    expect(args.length, path).toBe(2);
    const found = (manager?.matchStrings ?? []).flatMap((s) =>
      [...text.matchAll(new RegExp(s, 'g'))].map(
        (m) => `${m.groups?.depName}:${m.groups?.currentValue}@${m.groups?.currentDigest}`,
      ),
    );
    expect(found, path).toEqual(args);
  });
});
