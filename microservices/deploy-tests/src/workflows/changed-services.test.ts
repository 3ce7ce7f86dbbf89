import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepository, type RepoCopy } from './support/repo-copy.js';

const CHANGED = '.github/scripts/changed-services.mjs';
const PROMOTE = '.github/scripts/promote-image.mjs';
const DIGEST = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

let repo: RepoCopy;

beforeAll(async () => {
  repo = await copyRepository();
});
afterAll(async () => repo.remove());

async function changed(...args: string[]): Promise<string[]> {
  const output = join(repo.dir, '.git', 'changed-output');
  await writeFile(output, '');
  const result = await repo.node(CHANGED, args, { GITHUB_OUTPUT: output });
  expect(result.code, result.stderr).toBe(0);
  const services = JSON.parse(result.stdout) as string[];
  expect(await readFile(output, 'utf8')).toBe(`services=${JSON.stringify(services)}\n`);
  return services;
}

async function commitChange(file: string, text: string) {
  await appendFile(join(repo.dir, file), text);
  await repo.git('commit', '--quiet', '--all', '--message', `change ${file}`);
}

/** What release.yml's promote-dev job does: write the digests with the built commit, commit the message. */
async function promote(services: string[]) {
  const source = await repo.git('rev-parse', 'HEAD');
  const message = join(repo.dir, '.git', 'promotion-message');
  const images = services.flatMap((s, i) => ['--image', `${s}=${DIGEST(i + 1)}`]);
  const args = ['set', '--env', 'dev', '--tag', `sha-${source.slice(0, 7)}`, '--source-commit', source];
  const result = await repo.node(PROMOTE, [...args, '--message-file', message, ...images]);
  expect(result.code, result.stderr).toBe(0);
  await repo.git('add', '--', 'k8s/dev');
  await repo.git(
    'commit',
    '--quiet',
    '--file',
    message,
    '--trailer',
    'Release-Run: https://example.invalid/run/1',
  );
}

describe('changed-services.mjs: which images release.yml builds (on a copy of the repository)', () => {
  it('builds every service until dev records what it was built from, and every service for a tag', async () => {
    expect(await changed()).toEqual(['order-service', 'user-service']);
    expect(await changed('--all')).toEqual(['order-service', 'user-service']);
  });

  it('after a promotion commit, nothing — the promotion commit itself (k8s/dev) triggers no build', async () => {
    await promote(['user-service', 'order-service']);
    expect(await changed()).toEqual([]);
    expect(await changed('--all')).toEqual(['order-service', 'user-service']);
  });

  it('a change to one service rebuilds only that one; docs, k8s, helm and tests elsewhere rebuild nothing', async () => {
    await commitChange('MICROSERVICES_README.md', '\n');
    await commitChange('helm/microservice/values.yaml', '\n');
    await commitChange('microservices/system-tests/package.json', '\n');
    expect(await changed()).toEqual([]);
    await commitChange('microservices/user-service/src/main.ts', '\n// touched\n');
    expect(await changed()).toEqual(['user-service']);
  });

  it('a change to what both images are built from (the Dockerfile, service-kit, the lockfile, .dockerignore) rebuilds both', async () => {
    await promote(['user-service']);
    expect(await changed()).toEqual([]);
    for (const file of [
      'microservices/Dockerfile',
      'microservices/service-kit/package.json',
      'package-lock.json',
      '.dockerignore',
    ]) {
      const head = await repo.git('rev-parse', 'HEAD');
      await commitChange(file, '\n');
      expect(await changed(), file).toEqual(['order-service', 'user-service']);
      await repo.git('reset', '--quiet', '--hard', head);
    }
  });

  it('a run that never promoted (cancelled, failed scan) is caught up by the next one', async () => {
    await commitChange('microservices/order-service/src/main.ts', '\n// first push, its run was cancelled\n');
    await commitChange('README.md', '\n');
    expect(await changed()).toEqual(['order-service']);
  });

  it('a recorded commit that is not in the history (rewritten main) rebuilds the service (negative)', async () => {
    await promote(['order-service']);
    expect(await changed()).toEqual([]);
    const values = join(repo.dir, 'k8s/dev/order-service/values.yaml');
    await appendFile(values, '# hand edit\n');
    await repo.git('add', '--all');
    await repo.git('commit', '--quiet', '--message', `dev: hand edit\n\nSource-Commit: ${'f'.repeat(40)}`);
    const result = await repo.node(CHANGED, []);
    expect(JSON.parse(result.stdout)).toEqual(['order-service']);
    expect(result.stderr).toMatch(
      /order-service: build \(fffffff \(last built for dev\) is not in this history\)/,
    );
  });
});
