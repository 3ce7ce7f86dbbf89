// service-port.mjs: the PORT build arg release.yml, ci.yml and e2e.yml pass to microservices/Dockerfile for a service.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOrderServiceEnv } from '../../../order-service/src/env.js';
import { parseUserServiceEnv } from '../../../user-service/src/env.js';
import { repoRoot } from '../support/deploy-paths.js';
import { runCommand } from '../support/tools.js';
import { loadWorkflows, runScripts, scriptsDir, workflowByFile } from './support/workflows.js';

const SCRIPT = 'service-port.mjs';
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

const portOf = (service: string, root = repoRoot, env: NodeJS.ProcessEnv = {}) =>
  runCommand(process.execPath, [join(root, '.github', 'scripts', SCRIPT), service], {
    env: { PATH: process.env.PATH, ...env },
  });

/** A repository stand-in holding only the script and one service's env.ts. */
async function treeWith(service: string, envSource: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'service-port-'));
  scratch.push(root);
  await mkdir(join(root, '.github', 'scripts'), { recursive: true });
  await copyFile(join(scriptsDir, SCRIPT), join(root, '.github', 'scripts', SCRIPT));
  await mkdir(join(root, 'microservices', service, 'src'), { recursive: true });
  await writeFile(join(root, 'microservices', service, 'src', 'env.ts'), envSource);
  return root;
}

describe('service-port.mjs: the PORT build arg of a service', () => {
  it.each([
    ['user-service', parseUserServiceEnv({}).PORT],
    ['order-service', parseOrderServiceEnv({}).PORT],
  ])(
    '%s: the port its env schema defaults to (%i), printed and written to GITHUB_OUTPUT',
    async (service, port) => {
      const dir = await mkdtemp(join(tmpdir(), 'service-port-out-'));
      scratch.push(dir);
      const output = join(dir, 'output');
      await writeFile(output, '');
      const result = await portOf(service, repoRoot, { GITHUB_OUTPUT: output });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${port}\n`);
      expect(await readFile(output, 'utf8')).toBe(`port=${port}\n`);
    },
  );

  it('fails, saying why, for a service that does not exist or a name that is not one (negative)', async () => {
    const missing = await portOf('payment-service');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/microservices\/payment-service\/src\/env\.ts does not exist/);
    const path = await portOf('../user-service');
    expect(path.code).toBe(1);
    expect(path.stderr).toMatch(/is not a service directory name/);
  });

  it('fails when the env schema no longer writes the default as `PORT: portVar(<port>)` (negative)', async () => {
    const source = await readFile(join(repoRoot, 'microservices', 'user-service', 'src', 'env.ts'), 'utf8');
    const moved = await treeWith(
      'user-service',
      source.replace(/PORT: portVar\(\d+\)/, 'PORT: portVar(PORT)'),
    );
    const result = await portOf('user-service', moved);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/expected one `PORT: portVar\(<port>\)`, found 0/);
    const same = await treeWith('user-service', source);
    expect((await portOf('user-service', same)).stdout).toBe(`${parseUserServiceEnv({}).PORT}\n`);
  });
});

describe('every image build takes its PORT build arg from service-port.mjs', () => {
  it('e2e.yml builds each service with the port service-port.mjs prints for that same service', async () => {
    const script = runScripts(workflowByFile(await loadWorkflows(), 'e2e.yml'))
      .map((r) => r.script)
      .join('\n');
    const builds = [...script.matchAll(/--build-arg SERVICE=([a-z-]+) --build-arg PORT=("[^"]*"|\S+)/g)];
    expect(builds.length).toBeGreaterThanOrEqual(4);
    for (const [, service, port] of builds) {
      expect(port).toBe(`"$(node .github/scripts/service-port.mjs ${service})"`);
    }
  });

  it('no workflow step writes a PORT build arg by hand: every image build takes it from service-port.mjs', async () => {
    const workflows = await loadWorkflows();
    for (const file of ['e2e.yml', 'ci.yml', 'release.yml']) {
      const script = runScripts(workflowByFile(workflows, file))
        .map((r) => r.script)
        .join('\n');
      expect(script, file).not.toMatch(/PORT=\d/);
    }
  });
});
