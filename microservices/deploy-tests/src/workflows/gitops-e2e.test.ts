// Issue 15: the GitOps end-to-end job (e2e.yml › gitops) cannot run here (kind, Argo CD, registries), so
// everything about it that can run offline does: its versions live in one file, its overlay is built with
// kubectl kustomize and expanded like Argo CD would, and its wait and NetworkPolicy scripts run against a
// stand-in kubectl.

import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expandApplicationSet } from '../support/argocd.js';
import { repoRoot } from '../support/deploy-paths.js';
import { one } from '../support/manifests.js';
import { kustomize } from '../support/renders.js';
import { runCommand } from '../support/tools.js';
import { githubDir, loadWorkflows, type Workflow, workflowByFile } from './support/workflows.js';

const VERSIONS = join(githubDir, 'e2e', 'gitops-versions.env');
const SHA = '0123456789abcdef0123456789abcdef01234567';
let workflows: Workflow[];
let scratch: string;

beforeAll(async () => {
  workflows = await loadWorkflows();
  scratch = await mkdtemp(join(tmpdir(), 'gitops-e2e-'));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

const versions = () =>
  Object.fromEntries(
    readFileSync(VERSIONS, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.split('=') as [string, string]),
  );

describe('e2e.yml › gitops: the job', () => {
  const job = () => workflowByFile(workflows, 'e2e.yml').doc.jobs.gitops;
  const runs = () => (job()?.steps ?? []).map((s) => s.run ?? '').join('\n');

  it('runs nightly and on pull requests touching deploy files, in a kind cluster without kindnet', () => {
    const e2e = workflowByFile(workflows, 'e2e.yml');
    expect(Object.keys(e2e.doc.on)).toEqual(expect.arrayContaining(['pull_request', 'schedule']));
    expect(job()?.if).toBe("needs.changes.outputs.deploy == 'true'");
    const kind = (job()?.steps ?? []).find((s) => s.uses?.startsWith('helm/kind-action@'));
    const config = parse(readFileSync(join(repoRoot, String(kind?.with?.config)), 'utf8'));
    expect(config.networking.disableDefaultCNI).toBe(true);
  });

  it('installs, applies k8s/argocd at this commit, waits, exercises the API, checks the NetworkPolicy, in that order', () => {
    const steps = [
      /bash \.github\/scripts\/gitops-install\.sh/,
      /gitops-overlay\.sh "\$RUNNER_TEMP\/argocd" "\$REPO_URL" "\$REVISION"\n\s*kubectl apply -n argocd -k "\$RUNNER_TEMP\/argocd"/,
      /bash \.github\/scripts\/gitops-wait\.sh \d+/,
      /bash \.github\/scripts\/e2e-exercise\.sh/,
      /bash \.github\/scripts\/gitops-netpol-check\.sh microservices-dev/,
    ];
    const text = runs();
    const at = steps.map((pattern) => text.search(pattern));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const apply = (job()?.steps ?? []).find((s) => /gitops-overlay/.test(s.run ?? ''));
    expect(String(apply?.env?.REVISION)).toContain('github.event.pull_request.head.sha');
    const drill = (job()?.steps ?? []).find((s) => /e2e-exercise/.test(s.run ?? ''));
    // Self-heal would undo the outage: the controller is paused first and resumed last.
    expect(String(drill?.env?.STOP_USER_SERVICE)).toMatch(
      /argocd-application-controller --replicas=0 &&[\s\S]*user-service 0/,
    );
    expect(String(drill?.env?.START_USER_SERVICE)).toMatch(
      /user-service 1 &&[\s\S]*argocd-application-controller --replicas=1/,
    );
    const diagnostics = (job()?.steps ?? []).find((s) => /e2e-diagnostics\.sh/.test(s.run ?? ''));
    expect(diagnostics?.if).toBe('failure()');
    expect(diagnostics?.run).toMatch(/argocd/);
  });

  it('pins every version in .github/e2e/gitops-versions.env and nowhere else', () => {
    const pinned = versions();
    for (const [key, value] of Object.entries(pinned)) {
      if (key.endsWith('_VERSION')) expect(value, key).toMatch(/^v\d+\.\d+\.\d+$/);
      else expect(value, key).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+$/);
    }
    const install = readFileSync(join(githubDir, 'scripts', 'gitops-install.sh'), 'utf8');
    const urls = [...install.matchAll(/"(https:\/\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(urls.length).toBe(5);
    for (const url of urls) expect(url, url).toMatch(/\$\{[A-Z_]+_VERSION(#v)?\}/);
    // No version of these projects written into any other file under .github.
    const files = ['workflows', 'scripts', 'e2e'].flatMap((dir) =>
      readdirSync(join(githubDir, dir)).map((f) => join(githubDir, dir, f)),
    );
    for (const file of files.filter((f) => f !== VERSIONS)) {
      const text = readFileSync(file, 'utf8');
      for (const value of Object.values(pinned))
        expect(text.includes(value), `${file} repeats ${value}`).toBe(false);
    }
  });
});

describe('gitops-overlay.sh, built with kubectl kustomize', () => {
  it('points every generated Application at the commit, dev and staging only, with the kind images', async () => {
    const dir = join(scratch, 'overlay');
    const result = await runCommand('bash', [
      join(githubDir, 'scripts', 'gitops-overlay.sh'),
      dir,
      'https://github.com/acme/pair.git',
      SHA,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const built = await kustomize(dir);
    expect(built.stderr).toBe('');
    const apps = expandApplicationSet(one(built.objects, 'ApplicationSet'));
    expect(apps.map((a) => a.name).sort()).toEqual([
      'order-service-dev',
      'order-service-staging',
      'user-service-dev',
      'user-service-staging',
    ]);
    for (const app of apps) {
      expect(app.spec.source.targetRevision).toBe(SHA);
      expect(app.spec.source.repoURL).toBe('https://github.com/acme/pair.git');
      expect((app.spec.source as { kustomize?: { images?: string[] } }).kustomize?.images).toEqual([
        'ghcr.io/example-org/user-service=ghcr.io/e2e/user-service:e2e',
        'ghcr.io/example-org/order-service=ghcr.io/e2e/order-service:e2e',
      ]);
      expect(app.spec.syncPolicy?.automated?.selfHeal).toBe(true);
    }
    const project = one(built.objects, 'AppProject').spec as { sourceRepos: string[] };
    expect(project.sourceRepos).toEqual(['https://github.com/acme/pair.git']);
    // What the job waits for is what the overlay generates.
    const wait = /gitops-wait\.sh (\d+)/.exec(
      (workflowByFile(workflows, 'e2e.yml').doc.jobs.gitops?.steps ?? []).map((s) => s.run ?? '').join('\n'),
    );
    expect(Number(wait?.[1])).toBe(apps.length);
  });
});

/** A directory with a stand-in `kubectl` (bash) first on PATH. */
async function fakeKubectl(name: string, body: string): Promise<NodeJS.ProcessEnv> {
  const bin = join(scratch, name, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'kubectl'), `#!/usr/bin/env bash\n${body}\n`);
  await chmod(join(bin, 'kubectl'), 0o755);
  return { PATH: `${bin}:${process.env.PATH}`, HOME: scratch };
}

const app = (name: string, sync: string, health: string) => ({
  metadata: { name },
  status: {
    sync: { status: sync },
    health: { status: health },
    conditions: [{ type: 'SyncError', message: `${name} failed` }],
  },
});

describe('gitops-wait.sh, against a stand-in kubectl', () => {
  it('returns once every Application is Synced and Healthy', async () => {
    const states = join(scratch, 'states');
    await mkdir(states, { recursive: true });
    await writeFile(join(states, '1'), JSON.stringify({ items: [app('a', 'OutOfSync', 'Progressing')] }));
    await writeFile(
      join(states, '2'),
      JSON.stringify({ items: [app('a', 'Synced', 'Progressing'), app('b', 'Synced', 'Healthy')] }),
    );
    await writeFile(
      join(states, '3'),
      JSON.stringify({ items: [app('a', 'Synced', 'Healthy'), app('b', 'Synced', 'Healthy')] }),
    );
    const env = await fakeKubectl(
      'wait-ok',
      `n=$(( $(cat "${states}/n" 2>/dev/null || echo 0) + 1 )); echo "$n" > "${states}/n"; cat "${states}/$(( n > 3 ? 3 : n ))"`,
    );
    const result = await runCommand('bash', [join(githubDir, 'scripts', 'gitops-wait.sh'), '2'], {
      env: { ...env, INTERVAL_SECONDS: '0', TIMEOUT_SECONDS: '30' },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/waiting for: a: OutOfSync\/Progressing/);
    expect(result.stdout).toMatch(/all 2 Applications are Synced and Healthy/);
    expect(await readFile(join(states, 'n'), 'utf8')).toBe('3\n');
  });

  it('fails on timeout, naming the Application that is not there and why (negative)', async () => {
    const state = join(scratch, 'degraded.json');
    await writeFile(
      state,
      JSON.stringify({ items: [app('good', 'Synced', 'Healthy'), app('bad', 'Synced', 'Degraded')] }),
    );
    const env = await fakeKubectl('wait-bad', `cat "${state}"`);
    const result = await runCommand('bash', [join(githubDir, 'scripts', 'gitops-wait.sh'), '2'], {
      env: { ...env, INTERVAL_SECONDS: '0', TIMEOUT_SECONDS: '0' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad: Synced\/Degraded/);
    expect(result.stderr).toMatch(/SyncError: bad failed/);
    expect(result.stderr).not.toMatch(/good/);
  });
});

describe('gitops-netpol-check.sh, against a stand-in kubectl', () => {
  // The stand-in answers like wget in the probe pod: exit 0 when it got through, 1 when refused.
  const run = async (name: string, allowed: number, stranger: number) => {
    const env = await fakeKubectl(
      name,
      `case "$*" in *app.kubernetes.io/name=order-service*) exit ${allowed};; *app.kubernetes.io/name=stranger*) exit ${stranger};; esac; exit 9`,
    );
    return runCommand(
      'bash',
      [join(githubDir, 'scripts', 'gitops-netpol-check.sh'), 'microservices-dev', VERSIONS],
      { env },
    );
  };

  it('passes when the allowed client gets through and the stranger is refused', async () => {
    const result = await run('np-ok', 0, 1);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/outside the allowed clients is refused/);
  });

  it('fails when the policy is not enforced, or when even the allowed client cannot connect (negative)', async () => {
    const open = await run('np-open', 0, 0);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/NetworkPolicy not enforced/);
    const closed = await run('np-closed', 1, 1);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/labelled as order-service cannot reach user-service/);
  });
});
