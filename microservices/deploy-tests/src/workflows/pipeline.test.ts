import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/deploy-paths.js';
import { ENVIRONMENTS, SERVICES } from '../support/helm.js';
import { mutatedWorkflow, removeMutants } from './support/mutate.js';
import {
  checkCiWorkflow,
  checkDependabot,
  checkE2eWorkflow,
  checkPromoteWorkflow,
  checkReleaseWorkflow,
} from './support/pipeline-checks.js';
import { githubDir, loadWorkflows, type Workflow, workflowByFile } from './support/workflows.js';

const TEST_DATABASE_URL = 'postgres://postgres:postgres@localhost:5432/postgres';

let workflows: Workflow[];
let dependabot: unknown;

beforeAll(async () => {
  workflows = await loadWorkflows();
  dependabot = parse(readFileSync(join(githubDir, 'dependabot.yml'), 'utf8'));
});
afterAll(removeMutants);

describe('release.yml: changed services → multi-arch images, scanned, signed, attested → dev pinned by digest', () => {
  it('does all of it, in that order, on main and on v* tags', () => {
    expect(checkReleaseWorkflow(workflowByFile(workflows, 'release.yml'))).toEqual([]);
  });

  it('the promotion job edits files that exist: k8s/dev/<service>/values.yaml for every service the Dockerfile builds', () => {
    expect(existsSync(join(repoRoot, 'microservices', 'Dockerfile'))).toBe(true);
    for (const service of SERVICES) {
      expect(existsSync(join(repoRoot, 'microservices', service, 'package.json')), service).toBe(true);
      expect(existsSync(join(repoRoot, 'k8s', 'dev', service, 'values.yaml')), service).toBe(true);
    }
  });

  it.each([
    [
      'an amd64-only image',
      'platforms: linux/amd64,linux/arm64',
      'platforms: linux/amd64',
      /linux\/amd64 and linux\/arm64/,
    ],
    [
      'a scan that counts unfixable findings',
      'only-fixed: true',
      'only-fixed: false',
      /only fixable findings/,
    ],
    ['a scan that only warns', 'fail-build: true', 'fail-build: false', /scan: must fail the build/],
    [
      'signing a tag instead of the digest',
      `cosign sign --yes "\${IMAGE}@\${DIGEST}"`,
      `cosign sign --yes "\${IMAGE}:main"`,
      /no `cosign sign` of/,
    ],
    ['no SBOM', 'sbom: true', 'sbom: false', /SBOM/],
    ['promotion commits re-triggering the release', '      - "k8s/**"\n', '', /paths-ignore: k8s/],
    ['a shallow clone for change detection', 'fetch-depth: 0', 'fetch-depth: 1', /full history/],
    [
      'dev pinned with another commit than the one built',
      `SOURCE_COMMIT: \${{ github.sha }}`,
      'SOURCE_COMMIT: main',
      /SOURCE_COMMIT must be the built commit/,
    ],
    ['a chart release on every push', "if: github.ref_type == 'tag'", 'if: true', /chart: only on tags/],
  ])('fails on %s (negative)', async (_what, from, to, problem) => {
    const mutant = await mutatedWorkflow('release.yml', from, to);
    expect(checkReleaseWorkflow(mutant).join('\n')).toMatch(problem);
  });
});

describe('promote-dev.sh, as release.yml runs it', () => {
  const script = readFileSync(join(repoRoot, '.github', 'scripts', 'promote-dev.sh'), 'utf8');
  it.each([
    [
      'dev tagged differently from the pushed image',
      `--tag "sha-\${SOURCE_COMMIT::7}"`,
      '--tag "main"',
      /same sha-<7>/,
    ],
    [
      'a promotion that commits everything',
      'git add -- k8s/dev ||',
      'git add --all ||',
      /commit only k8s\/dev/,
    ],
  ])('fails on %s (negative)', (_what, from, to, problem) => {
    expect(script).toContain(from);
    expect(
      checkReleaseWorkflow(workflowByFile(workflows, 'release.yml'), script.replace(from, to)).join('\n'),
    ).toMatch(problem);
  });
});

describe('promote.yml: a pull request copying digests one environment further', () => {
  it('offers dev → staging → prod and opens a pull request with only k8s/<to>', () => {
    expect(checkPromoteWorkflow(workflowByFile(workflows, 'promote.yml'), ENVIRONMENTS)).toEqual([]);
  });

  it('fails when an environment is missing from the choices or the pull request carries more (negative)', async () => {
    const choices = await mutatedWorkflow('promote.yml', 'options: [staging, prod]', 'options: [prod]');
    expect(checkPromoteWorkflow(choices, ENVIRONMENTS).join('\n')).toMatch(/to must offer staging, prod/);
    const paths = await mutatedWorkflow('promote.yml', `add-paths: k8s/\${{ inputs.to }}`, 'add-paths: k8s');
    expect(checkPromoteWorkflow(paths, ENVIRONMENTS).join('\n')).toMatch(/only k8s\/<to>/);
  });
});

describe('ci.yml', () => {
  it('lints, typechecks, audits production dependencies, lints workflows, checks rendered manifests, tests with PostgreSQL 16, builds images on PRs', () => {
    expect(checkCiWorkflow(workflowByFile(workflows, 'ci.yml'), TEST_DATABASE_URL)).toEqual([]);
  });

  it('fails without the service container, the dirty-tree check, the audit, or with a push from CI (negative)', async () => {
    const pg = await mutatedWorkflow('ci.yml', 'image: postgres:16', 'image: postgres:15');
    expect(checkCiWorkflow(pg, TEST_DATABASE_URL).join('\n')).toMatch(/postgres:16 service container/);
    const dirty = await mutatedWorkflow(
      'ci.yml',
      /\n {6}- name: Nothing above changed a tracked file\n(?: {8}[^\n]*\n| {10}[^\n]*\n)+/,
      '\n',
    );
    expect(checkCiWorkflow(dirty, TEST_DATABASE_URL).join('\n')).toMatch(
      /lint: the last step must fail on a dirty tree/,
    );
    const audit = await mutatedWorkflow(
      'ci.yml',
      'npm audit --omit=dev --audit-level=high',
      'npm audit || true',
    );
    expect(checkCiWorkflow(audit, TEST_DATABASE_URL).join('\n')).toMatch(/no step runs npm audit/);
    const pushes = await mutatedWorkflow('ci.yml', 'push: false', 'push: true');
    expect(checkCiWorkflow(pushes, TEST_DATABASE_URL).join('\n')).toMatch(/never pushes/);
  });
});

describe('e2e.yml', () => {
  it('kind, images loaded, PostgreSQL, helm --wait, helm test, the outage drill, diagnostics on failure', () => {
    expect(checkE2eWorkflow(workflowByFile(workflows, 'e2e.yml'))).toEqual([]);
  });

  it('fails when the drill skips the outage or the diagnostics never run (negative)', async () => {
    const noOutage = await mutatedWorkflow('e2e.yml', 'user-service 0', 'user-service 1');
    expect(checkE2eWorkflow(noOutage).join('\n')).toMatch(/scales user-service to 0/);
    const always = await mutatedWorkflow(
      'e2e.yml',
      /if: failure\(\)\n(\s+)run: \|\n(\s+)bash \.github\/scripts\/e2e-diagnostics/,
      'if: success()\n$1run: |\n$2bash .github/scripts/e2e-diagnostics',
    );
    expect(checkE2eWorkflow(always).join('\n')).toMatch(/on failure/);
  });
});

describe('dependabot.yml', () => {
  it('updates npm, actions, Dockerfile and compose images weekly, grouped, in directories that exist', () => {
    expect(checkDependabot(dependabot, repoRoot)).toEqual([]);
  });

  it('fails on a daily, ungrouped or misdirected entry (negative)', () => {
    const config = structuredClone(dependabot) as { updates: Array<Record<string, unknown>> };
    const [npm, actions, docker] = config.updates;
    if (!npm || !actions || !docker) throw new Error('dependabot.yml changed: update this test');
    npm.schedule = { interval: 'daily' };
    delete actions.groups;
    docker.directories = ['/microservices/payment-service'];
    const problems = checkDependabot(config, repoRoot).join('\n');
    expect(problems).toMatch(/npm: not weekly/);
    expect(problems).toMatch(/github-actions: not grouped/);
    expect(problems).toMatch(/docker: \/microservices\/payment-service has no Dockerfile/);
  });
});
