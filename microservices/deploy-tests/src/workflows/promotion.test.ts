// Issue 15, defect 1: the unit of promotion is everything an environment runs (chart source, values, image
// digests). Played out in a scratch git repository (a copy of this one): a chart change merged to main moves
// only dev; the promotion moves it to staging; reverting the promotion commit rolls staging back.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedFiles, commitAll, copyImages, renderK8s, setImages } from './support/promotion-scripts.js';
import { useRepositoryCopy } from './support/repo-copy.js';

const DIGEST_USER = `sha256:${'c3'.repeat(32)}`;
const DIGEST_ORDER = `sha256:${'d4'.repeat(32)}`;

const repo = useRepositoryCopy();

const read = (path: string) => readFile(join(repo.dir, path), 'utf8');
/** The `helm.sh/chart:` labels a rendered file carries (the chart version it was rendered from). */
const chartVersions = async (path: string) => [
  ...new Set([...(await read(path)).matchAll(/helm\.sh\/chart: (\S+)/g)].map((m) => m[1])),
];

async function expectUpToDate() {
  const check = await renderK8s(repo.dir, ['--check']);
  expect(check.stderr).toBe('');
  expect(check.code).toBe(0);
}

const MANIFESTS = ['dev', 'staging', 'prod'].flatMap((env) =>
  ['order-service', 'user-service'].map((service) => `k8s/${env}/${service}/manifests.yaml`),
);

describe('promotion in a scratch repository: chart change → dev only; promote → staging; revert → rollback', () => {
  let chartCommit: string;
  let stagingBefore: Record<string, string>;

  it('a chart change merged to main re-renders dev and nothing else, and CI’s check passes', async () => {
    await expectUpToDate();
    stagingBefore = Object.fromEntries(
      await Promise.all(
        MANIFESTS.filter((m) => !m.startsWith('k8s/dev')).map(async (m) => [m, await read(m)]),
      ),
    );
    const chartYaml = join(repo.dir, 'helm/microservice/Chart.yaml');
    const text = await readFile(chartYaml, 'utf8');
    expect(text).toMatch(/^version: 0\.1\.0$/m);
    await writeFile(chartYaml, text.replace(/^version: 0\.1\.0$/m, 'version: 0.2.0'));
    // What the author of the chart pull request runs (and CI checks).
    const render = await renderK8s(repo.dir);
    expect(render.code).toBe(0);
    expect(await changedFiles(repo)).toEqual([
      'helm/microservice/Chart.yaml',
      'k8s/dev/order-service/manifests.yaml',
      'k8s/dev/user-service/manifests.yaml',
    ]);
    chartCommit = await commitAll(repo, 'chart: 0.2.0');
    await expectUpToDate();
    expect(await chartVersions('k8s/dev/user-service/manifests.yaml')).toEqual(['microservice-0.2.0']);
    for (const [file, before] of Object.entries(stagingBefore)) expect(await read(file), file).toBe(before);
    expect(await chartVersions('k8s/staging/user-service/manifests.yaml')).toEqual(['microservice-0.1.0']);
    expect(await chartVersions('k8s/prod/order-service/manifests.yaml')).toEqual(['microservice-0.1.0']);
  });

  it('release.yml pins dev by digest; the promotion to staging carries digests and chart in one commit', async () => {
    const set = await setImages(repo, 'dev', 'sha-abcdef0', {
      'user-service': DIGEST_USER,
      'order-service': DIGEST_ORDER,
    });
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    await commitAll(repo, 'dev: deploy both');

    const message = join(repo.dir, '.git', 'promotion-message');
    const promote = await copyImages(repo, 'dev', 'staging', '--message-file', message);
    expect(promote.stderr).toBe('');
    expect(promote.code).toBe(0);
    expect(await changedFiles(repo)).toEqual([
      'k8s/staging/chart-source.yaml',
      'k8s/staging/order-service/manifests.yaml',
      'k8s/staging/order-service/values.yaml',
      'k8s/staging/user-service/manifests.yaml',
      'k8s/staging/user-service/values.yaml',
    ]);
    expect(await read('k8s/staging/chart-source.yaml')).toContain(`commit: "${chartCommit}"`);
    const text = await readFile(message, 'utf8');
    expect(text.split('\n')[0]).toBe(
      `staging: promote order-service, user-service and chart ${chartCommit.slice(0, 7)} from dev`,
    );
    expect(text).toContain(`Chart-Source: ${chartCommit}`);
    await commitAll(repo, text);
    await expectUpToDate();
    const staging = await read('k8s/staging/user-service/manifests.yaml');
    expect(await chartVersions('k8s/staging/user-service/manifests.yaml')).toEqual(['microservice-0.2.0']);
    expect(staging).toContain(`ghcr.io/example-org/user-service:sha-abcdef0@${DIGEST_USER}`);
    expect(staging).toContain(`\n# chart source: ${chartCommit} (k8s/staging/chart-source.yaml)`);
    // prod did not move.
    for (const file of MANIFESTS.filter((m) => m.startsWith('k8s/prod')))
      expect(await read(file), file).toBe(stagingBefore[file]);
  });

  it('a later chart change on main leaves staging on the chart it was promoted with', async () => {
    const values = join(repo.dir, 'helm/microservice/Chart.yaml');
    await writeFile(
      values,
      (await readFile(values, 'utf8')).replace(/^version: 0\.2\.0$/m, 'version: 0.3.0'),
    );
    expect((await renderK8s(repo.dir)).code).toBe(0);
    expect((await changedFiles(repo)).filter((f) => f.startsWith('k8s/'))).toEqual([
      'k8s/dev/order-service/manifests.yaml',
      'k8s/dev/user-service/manifests.yaml',
    ]);
    await commitAll(repo, 'chart: 0.3.0');
    await expectUpToDate();
    expect(await chartVersions('k8s/staging/order-service/manifests.yaml')).toEqual(['microservice-0.2.0']);
    // Rolling main's chart back for the next steps.
    await repo.git('revert', '--no-edit', 'HEAD');
  });

  it('staging → prod carries staging’s recorded chart, not main’s', async () => {
    const promote = await copyImages(repo, 'staging', 'prod');
    expect(promote.stderr).toBe('');
    expect(promote.code).toBe(0);
    expect(await read('k8s/prod/chart-source.yaml')).toContain(`commit: "${chartCommit}"`);
    expect(await chartVersions('k8s/prod/user-service/manifests.yaml')).toEqual(['microservice-0.2.0']);
    await expectUpToDate();
    await repo.git('reset', '--quiet', '--hard', 'HEAD');
  });

  it('reverting the promotion commit rolls staging back to exactly what it ran before, and CI’s check passes', async () => {
    const promotion = await repo.git('log', '-1', '--format=%H', '--grep=^staging: promote', 'HEAD');
    await repo.git('revert', '--no-edit', promotion);
    await expectUpToDate();
    for (const file of MANIFESTS.filter((m) => m.startsWith('k8s/staging')))
      expect(await read(file), file).toBe(stagingBefore[file]);
    expect(await chartVersions('k8s/staging/user-service/manifests.yaml')).toEqual(['microservice-0.1.0']);
  });

  it('CI’s check fails when a recorded chart source and the manifests disagree (negative)', async () => {
    const file = join(repo.dir, 'k8s/staging/chart-source.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/commit: "[0-9a-f]{40}"/, `commit: "${chartCommit}"`));
    const check = await renderK8s(repo.dir, ['--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('out of date: k8s/staging/user-service/manifests.yaml');
    await writeFile(file, text.replace(/commit: "[0-9a-f]{40}"/, `commit: "${'0'.repeat(40)}"`));
    const missing = await renderK8s(repo.dir, ['--check']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/is not in this clone: fetch the full history/);
    await repo.reset();
  });

  it('refuses to promote dev’s chart while the chart has uncommitted changes (negative)', async () => {
    const chartYaml = join(repo.dir, 'helm/microservice/Chart.yaml');
    await writeFile(chartYaml, `${await readFile(chartYaml, 'utf8')}# edited\n`);
    const promote = await copyImages(repo, 'dev', 'staging');
    expect(promote.code).toBe(1);
    expect(promote.stderr).toMatch(/uncommitted changes[\s\S]*helm\/microservice\/Chart\.yaml/);
    await repo.reset();
  });
});
