import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { K8sObject } from '../support/manifests.js';
import { kustomize } from '../support/renders.js';
import { validateAll } from '../support/validate.js';
import {
  changedFiles,
  copyImages,
  lastChartCommit,
  PROMOTE_SCRIPT,
  renderK8s,
  setImages,
} from './support/promotion-scripts.js';
import { useRepositoryCopy } from './support/repo-copy.js';

const DIGEST_A = `sha256:${'a1'.repeat(32)}`;
const DIGEST_B = `sha256:${'b2'.repeat(32)}`;

const repo = useRepositoryCopy();
afterEach(async () => repo.reset());

const read = (path: string) => readFile(join(repo.dir, path), 'utf8');

/** Lines of `after` that differ from `before`, as [before, after] pairs (the files keep their line count). */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i] ?? ''] as [string, string]]));
}

async function buildAndValidate(env: string): Promise<K8sObject[]> {
  const built = await kustomize(join(repo.dir, 'k8s', env));
  expect(built.stderr).toBe('');
  expect(built.code).toBe(0);
  expect(await validateAll(built.objects)).toEqual([]);
  return built.objects;
}

const deploymentImage = (objects: K8sObject[], name: string) => {
  const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as
    | (K8sObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } })
    | undefined;
  return d?.spec.template.spec.containers[0]?.image;
};

describe('promote-image.mjs set (what release.yml runs after a push from main), on a copy of the repository', () => {
  it('changes the dev image reference of that service to the digest, and nothing else; dev still builds and validates', async () => {
    const valuesBefore = await read('k8s/dev/user-service/values.yaml');
    const manifestsBefore = await read('k8s/dev/user-service/manifests.yaml');
    const result = await repo.node(PROMOTE_SCRIPT, [
      'set',
      '--env',
      'dev',
      '--image',
      `user-service=${DIGEST_A}`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`dev/user-service: now (tag unchanged) @ ${DIGEST_A}`);

    expect(await changedFiles(repo)).toEqual([
      'k8s/dev/user-service/manifests.yaml',
      'k8s/dev/user-service/values.yaml',
    ]);
    // The values file: exactly the digest line.
    expect(changedLines(valuesBefore, await read('k8s/dev/user-service/values.yaml'))).toEqual([
      ['  digest: ""', `  digest: "${DIGEST_A}"`],
    ]);
    // The rendered manifests: only the image references, each the same reference now pinned by the digest,
    // and what the chart derives from it: hook Job names carry a hash of their pod template (the image in it),
    // so Argo CD runs them again.
    const manifestChanges = changedLines(manifestsBefore, await read('k8s/dev/user-service/manifests.yaml'));
    const images = manifestChanges.filter(([before]) => /^\s+image: /.test(before));
    const jobNames = manifestChanges.filter(([before]) => /^\s+name: /.test(before));
    expect(images.length + jobNames.length).toBe(manifestChanges.length);
    expect(images.length).toBeGreaterThanOrEqual(2); // the Deployment and the PostSync smoke Job
    const newRef = `ghcr.io/example-org/user-service:1.0.0@${DIGEST_A}`;
    for (const [before, after] of images) {
      expect(before).toMatch(/^\s+image: ghcr\.io\/example-org\/user-service:1\.0\.0$/);
      expect(after).toBe(`${before}@${DIGEST_A}`);
      expect(after.trim()).toBe(`image: ${newRef}`);
    }
    for (const [before, after] of jobNames) {
      expect(before).toMatch(/^\s+name: user-service-(smoke|migrate|wait)-[0-9a-f]{8}$/);
      expect(after).toMatch(new RegExp(`^${before.replace(/[0-9a-f]{8}$/, '')}[0-9a-f]{8}$`));
      expect(after).not.toBe(before);
    }

    const dev = await buildAndValidate('dev');
    expect(deploymentImage(dev, 'user-service')).toBe(`ghcr.io/example-org/user-service:1.0.0@${DIGEST_A}`);
    expect(deploymentImage(dev, 'order-service')).toBe('ghcr.io/example-org/order-service:1.0.0');
    // What CI checks on the promotion commit: the manifests match a fresh render of the chart.
    const check = await renderK8s(repo.dir, ['--check']);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('with a tag, both services and a source commit: a commit message naming the commit, outputs for the workflow', async () => {
    const source = await repo.git('rev-parse', 'HEAD');
    const output = join(repo.dir, '.git', 'github-output');
    const message = join(repo.dir, '.git', 'commit-message');
    const result = await repo.node(
      PROMOTE_SCRIPT,
      [
        'set',
        '--env',
        'dev',
        '--tag',
        `sha-${source.slice(0, 7)}`,
        '--source-commit',
        source,
        '--owner',
        'Example-Org',
        '--message-file',
        message,
        '--image',
        `user-service=${DIGEST_A}`,
        '--image',
        `order-service=${DIGEST_B}`,
      ],
      { GITHUB_OUTPUT: output },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await changedFiles(repo)).toEqual([
      'k8s/dev/order-service/manifests.yaml',
      'k8s/dev/order-service/values.yaml',
      'k8s/dev/user-service/manifests.yaml',
      'k8s/dev/user-service/values.yaml',
    ]);
    for (const [service, digest] of [
      ['user-service', DIGEST_A],
      ['order-service', DIGEST_B],
    ] as const) {
      expect(parse(await read(`k8s/dev/${service}/values.yaml`))).toEqual({
        image: { tag: `sha-${source.slice(0, 7)}`, digest },
      });
    }
    const dev = await buildAndValidate('dev');
    expect(deploymentImage(dev, 'order-service')).toBe(
      `ghcr.io/example-org/order-service:sha-${source.slice(0, 7)}@${DIGEST_B}`,
    );
    const text = await readFile(message, 'utf8');
    expect(text.split('\n')[0]).toBe(
      `dev: deploy user-service, order-service built from ${source.slice(0, 7)}`,
    );
    expect(text).toContain(`Pin dev to the images built from ${source}, by digest:`);
    expect(text.trimEnd().split('\n').at(-1)).toBe(`Source-Commit: ${source}`);
    expect(await readFile(output, 'utf8')).toBe('changed=true\nservices=user-service order-service\n');
  });

  it('is idempotent: the same digests again change nothing and report changed=false', async () => {
    const args = ['set', '--env', 'dev', '--image', `user-service=${DIGEST_A}`];
    expect((await repo.node(PROMOTE_SCRIPT, args)).code).toBe(0);
    await repo.git('commit', '--quiet', '--all', '--message', 'first promotion');
    const output = join(repo.dir, '.git', 'github-output-again');
    const again = await repo.node(PROMOTE_SCRIPT, args, { GITHUB_OUTPUT: output });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('dev/user-service: already at');
    expect(await changedFiles(repo)).toEqual([]);
    expect(await readFile(output, 'utf8')).toBe('changed=false\nservices=\n');
    await repo.git('reset', '--quiet', '--hard', 'HEAD~1');
  });
});

describe('promote-image.mjs copy (what promote.yml runs), on a copy of the repository', () => {
  it('carries dev’s tag, digest and chart source to staging only; staging still builds and validates', async () => {
    expect(
      (await setImages(repo, 'dev', 'sha-1234567', { 'user-service': DIGEST_A, 'order-service': DIGEST_B }))
        .code,
    ).toBe(0);
    await repo.git('commit', '--quiet', '--all', '--message', 'dev promotion');
    // Review finding 6: one service alone may not move the chart under the other (review.test.ts).
    const alone = await copyImages(repo, 'dev', 'staging', '--service', 'user-service');
    expect(alone.code).toBe(1);
    expect(await changedFiles(repo)).toEqual([]);
    const message = join(repo.dir, '.git', 'promotion-message');
    const result = await copyImages(repo, 'dev', 'staging', '--message-file', message);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The chart moves with the images: staging now records the commit dev's chart comes from.
    const chartCommit = await lastChartCommit(repo);
    expect(await changedFiles(repo)).toEqual([
      'k8s/staging/chart-source.yaml',
      'k8s/staging/order-service/manifests.yaml',
      'k8s/staging/order-service/values.yaml',
      'k8s/staging/user-service/manifests.yaml',
      'k8s/staging/user-service/values.yaml',
    ]);
    expect(parse(await read('k8s/staging/chart-source.yaml'))).toEqual({ chart: { commit: chartCommit } });
    const orderChanges = await repo.git(
      'diff',
      '--unified=0',
      '--',
      'k8s/staging/order-service/manifests.yaml',
    );
    expect(orderChanges).toMatch(new RegExp(`\\+# chart source: ${chartCommit} `));
    expect(orderChanges).toContain(`@${DIGEST_B}`);
    expect(parse(await read('k8s/staging/user-service/values.yaml'))).toEqual({
      image: { tag: 'sha-1234567', digest: DIGEST_A },
    });
    const staging = await buildAndValidate('staging');
    expect(deploymentImage(staging, 'user-service')).toBe(
      `ghcr.io/example-org/user-service:sha-1234567@${DIGEST_A}`,
    );
    const text = await readFile(message, 'utf8');
    expect(text.split('\n')[0]).toBe(
      `staging: promote order-service, user-service and chart ${chartCommit.slice(0, 7)} from dev`,
    );
    expect(text).toContain(`Chart-Source: ${chartCommit}`);
    expect(text).toContain('Promoted-From: dev');
    await repo.git('reset', '--quiet', '--hard', 'HEAD~1');
  });
});

describe('promote-image.mjs fails loudly and writes nothing (negative)', () => {
  const fails = async (args: string[], message: RegExp) => {
    const result = await repo.node(PROMOTE_SCRIPT, args);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    return result;
  };

  it('on a malformed digest, an unknown service or environment, a bad tag', async () => {
    await fails(
      ['set', '--env', 'dev', '--image', 'user-service=sha256:abc'],
      /"sha256:abc" is not a digest/,
    );
    await fails(
      ['set', '--env', 'dev', '--image', `payment-service=${DIGEST_A}`],
      /k8s\/dev\/payment-service\/values\.yaml not found/,
    );
    await fails(['set', '--env', 'qa', '--image', `user-service=${DIGEST_A}`], /unknown environment "qa"/);
    await fails(
      ['set', '--env', 'dev', '--tag', 'v1 2', '--image', `user-service=${DIGEST_A}`],
      /"v1 2" is not a valid image tag/,
    );
    await fails(['set', '--env', 'dev'], /nothing to promote/);
    await fails(['set', '--env', 'dev', '--imag', 'x'], /Unknown option '--imag'/);
    expect(await changedFiles(repo)).toEqual([]);
  });

  it('when the values file lost its image.digest key or its image map, or k8s/dev is gone', async () => {
    const file = join(repo.dir, 'k8s/dev/user-service/values.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace(/^ {2}digest: .*\n/m, ''));
    await fails(
      ['set', '--env', 'dev', '--image', `user-service=${DIGEST_A}`],
      /values\.yaml: no `image\.digest` key; the promotion expects/,
    );
    await writeFile(file, 'replicaCount: 1\n');
    await fails(
      ['set', '--env', 'dev', '--image', `user-service=${DIGEST_A}`],
      /values\.yaml: no top-level `image:` map/,
    );
    await writeFile(file, original);
    await rename(join(repo.dir, 'k8s/dev'), join(repo.dir, 'k8s/development'));
    await fails(
      ['set', '--env', 'dev', '--image', `user-service=${DIGEST_A}`],
      /k8s\/dev\/kustomization\.yaml not found/,
    );
  });

  it('when the images are pushed under another owner than k8s/values-common.yaml names', async () => {
    await fails(
      ['set', '--env', 'dev', '--owner', 'acme', '--image', `user-service=${DIGEST_A}`],
      /image\.owner "example-org" but the images are pushed under "acme": set image\.owner to "acme"/,
    );
    expect(await changedFiles(repo)).toEqual([]);
  });

  it('when the committed manifests are already out of date (the promotion commit would carry more than itself)', async () => {
    const file = join(repo.dir, 'k8s/dev/order-service/manifests.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('maxSurge: 1', 'maxSurge: 2'));
    await fails(
      ['set', '--env', 'dev', '--image', `user-service=${DIGEST_A}`],
      /out of date before the promotion[\s\S]*order-service\/manifests\.yaml/,
    );
    expect(await changedFiles(repo)).toEqual(['k8s/dev/order-service/manifests.yaml']);
  });

  it('copy: skipping an environment, going backwards, or a source without a digest', async () => {
    await fails(
      ['copy', '--from', 'dev', '--to', 'prod'],
      /dev → prod skips or reverses the order dev → staging → prod/,
    );
    await fails(['copy', '--from', 'staging', '--to', 'dev'], /skips or reverses/);
    await fails(
      ['copy', '--from', 'staging', '--to', 'prod'],
      /k8s\/staging\/(order|user)-service\/values\.yaml pins no digest/,
    );
    expect(await changedFiles(repo)).toEqual([]);
  });
});
