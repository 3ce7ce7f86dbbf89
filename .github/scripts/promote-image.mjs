#!/usr/bin/env node
// Points an environment of the GitOps source (k8s/<env>/<service>/values.yaml) at images pinned by digest,
// then re-renders k8s/<env>/<service>/manifests.yaml from the chart, which is what Argo CD syncs.
//
//   node .github/scripts/promote-image.mjs set --env dev --tag sha-1a2b3c4 \
//     --image user-service=sha256:<64 hex> [--image order-service=sha256:<64 hex>] \
//     [--source-commit <sha>] [--owner <ghcr owner>] [--message-file <path>] [--no-render]
//   node .github/scripts/promote-image.mjs copy --from dev --to staging [--service user-service]... \
//     [--chart-only] [--message-file <path>] [--no-render]
//   node .github/scripts/promote-image.mjs bootstrap [--message-file <path>] [--no-render]
//
// `set` is what release.yml runs after pushing images from main; `copy` is what promote.yml runs to carry
// an environment one step further (dev → staging → prod). What moves is everything the environment runs:
// the image digests and the chart source (k8s/<env>/chart-source.yaml: the commit whose helm/microservice
// and k8s/values-common.yaml the environment is rendered from; dev has none, it runs the chart of its own
// commit). So a chart or shared-config change reaches dev when it merges and staging/prod only through a
// promotion, and reverting one promotion commit rolls all of it back. `--chart-only` moves the chart source
// alone (the first promotion, before dev has a digest). `bootstrap` records HEAD as the chart source of
// staging and prod and re-renders them: for a repository adopted with fresh history (a template, a squashed
// import), where the recorded commits do not exist. Every recorded chart source must be an ancestor of the
// base branch (CHART_SOURCE_BASE, else origin/main when present, else HEAD). Only `image.tag`, `image.digest` and `commit:` lines
// change; everything else stays byte for byte. Any missing file, key or malformed input stops the script
// with a message saying what it expected, before anything is written.
// No dependencies beyond Node itself; rendering runs the repository's own `render-k8s` script.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Promotion order: `copy` only moves an image one step along it. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'];
/** The trailer `changed-services.mjs` reads to know which commit an environment's images were built from. */
export const SOURCE_TRAILER = 'Source-Commit';
export const RENDER_COMMAND = ['npm', 'run', '--silent', 'render-k8s', '-w', '@microservices/deploy-tests'];

const DIGEST = /^sha256:[a-f0-9]{64}$/;
// The chart's values.schema.json pattern for image.tag.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SERVICE = /^[a-z0-9][a-z0-9-]*$/;
const GIT_SHA = /^[0-9a-f]{40}$/;
/** What an environment takes from its recorded chart source (the same list as deploy-tests' k8s-render.ts). */
export const CHART_INPUTS = ['helm/microservice', 'k8s/values-common.yaml'];
const LAYOUT_HINT =
  'the promotion expects the layout k8s/<env>/<service>/values.yaml with a top-level `image:` map holding ' +
  '`tag:` and `digest:` (MICROSERVICES_README.md, "Promoting an image")';

class PromotionError extends Error {}
const fail = (message) => {
  throw new PromotionError(message);
};

/** Where a scalar sits on a `key: value  # comment` line, so it can be replaced without touching the rest. */
const KEY_LINE =
  /^(?<indent>[ ]+)(?<key>[A-Za-z_]+):(?<gap>[ ]*)(?<value>"[^"]*"|'[^']*'|[^\s#]*)(?<rest>[ ]*(#.*)?)$/;

function unquote(raw) {
  if (raw.startsWith('"')) return JSON.parse(raw);
  if (raw.startsWith("'")) return raw.slice(1, -1).replaceAll("''", "'");
  return raw;
}

/**
 * The `image:` block of a values file: the line numbers of its direct `tag:` and `digest:` keys. A
 * line-based reader on purpose: a YAML round trip would re-format comments and quoting, and the commit
 * must show exactly the two lines that changed.
 */
export function readImageBlock(text, file) {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^image:[ ]*(#.*)?$/.test(line));
  if (start < 0) fail(`${file}: no top-level \`image:\` map; ${LAYOUT_HINT}`);
  const found = {};
  let childIndent;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || /^[ ]*#/.test(line)) continue;
    if (!line.startsWith(' ')) break;
    const match = KEY_LINE.exec(line);
    const indent = /^[ ]*/.exec(line)?.[0].length ?? 0;
    childIndent ??= indent;
    if (indent !== childIndent) continue;
    if (!match?.groups) {
      if (/^[ ]*(tag|digest):/.test(line))
        fail(`${file}:${i + 1}: cannot read \`${line.trim()}\`; ${LAYOUT_HINT}`);
      continue;
    }
    const { key, value } = match.groups;
    if (key === 'tag' || key === 'digest') {
      if (found[key]) fail(`${file}:${i + 1}: image.${key} appears twice`);
      found[key] = { line: i, value: unquote(value ?? '') };
    }
  }
  for (const key of ['tag', 'digest']) {
    if (!found[key]) fail(`${file}: no \`image.${key}\` key; ${LAYOUT_HINT}`);
  }
  return { lines, tag: found.tag, digest: found.digest };
}

function replaceValue(line, value) {
  const match = KEY_LINE.exec(line);
  if (!match?.groups) fail(`internal: cannot rewrite \`${line}\``);
  const { indent, key, rest } = match.groups;
  return `${indent}${key}: ${JSON.stringify(value)}${rest ?? ''}`;
}

/** The new text of a values file with image.tag and image.digest set (the tag is kept when undefined). */
export function setImage(text, file, { tag, digest }) {
  const block = readImageBlock(text, file);
  const lines = [...block.lines];
  if (tag !== undefined) lines[block.tag.line] = replaceValue(lines[block.tag.line] ?? '', tag);
  lines[block.digest.line] = replaceValue(lines[block.digest.line] ?? '', digest);
  return lines.join('\n');
}

/** `owner:` under the top-level `image:` map of k8s/values-common.yaml. */
function readOwner(root) {
  const file = join(root, 'k8s', 'values-common.yaml');
  if (!existsSync(file))
    fail(`${relative(root, file)} not found: it holds image.registry and image.owner for k8s/`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((line) => /^image:[ ]*(#.*)?$/.test(line));
  for (let i = start + 1; start >= 0 && i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() !== '' && !line.startsWith(' ')) break;
    const match = KEY_LINE.exec(line);
    if (match?.groups?.key === 'owner') return unquote(match.groups.value ?? '');
  }
  return fail(`${relative(root, file)}: no image.owner; it must name the owner the images are pushed under`);
}

function valuesFile(root, env, service) {
  if (!ENVIRONMENTS.includes(env)) fail(`unknown environment "${env}" (one of ${ENVIRONMENTS.join(', ')})`);
  if (!SERVICE.test(service)) fail(`"${service}" is not a service name`);
  const envDir = join(root, 'k8s', env);
  if (!existsSync(join(envDir, 'kustomization.yaml')))
    fail(`k8s/${env}/kustomization.yaml not found; ${LAYOUT_HINT}`);
  const file = join(envDir, service, 'values.yaml');
  if (!existsSync(file)) fail(`k8s/${env}/${service}/values.yaml not found; ${LAYOUT_HINT}`);
  return file;
}

function servicesOf(root, env) {
  const envDir = join(root, 'k8s', env);
  if (!existsSync(envDir)) fail(`k8s/${env} not found; ${LAYOUT_HINT}`);
  return readdirSync(envDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(envDir, entry.name, 'values.yaml')))
    .map((entry) => entry.name)
    .sort();
}

const envArgs = (environments) => environments.flatMap((env) => ['--env', env]);

/** Re-renders the manifests of `environments` only: a dev deploy never waits on a staging or prod render. */
function render(root, environments) {
  try {
    execFileSync(RENDER_COMMAND[0] ?? 'npm', [...RENDER_COMMAND.slice(1), '--', ...envArgs(environments)], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
  } catch (error) {
    const stderr = typeof error?.stderr === 'string' ? error.stderr.trim() : '';
    fail(`rendering k8s/${environments.join(', k8s/')} failed:\n${stderr}`);
  }
}

/**
 * Fails unless the committed manifests of `environments` already match their chart, so a promotion commit
 * carries only its own change. Only the environments the command touches: a staging render problem must not
 * stop a dev deploy.
 */
function checkRendered(root, environments) {
  try {
    execFileSync(
      RENDER_COMMAND[0] ?? 'npm',
      [...RENDER_COMMAND.slice(1), '--', '--check', ...envArgs(environments)],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      },
    );
  } catch (error) {
    const stderr = typeof error?.stderr === 'string' ? error.stderr.trim() : '';
    fail(
      `the committed manifests of k8s/${environments.join(', k8s/')} are out of date before the promotion ` +
        `(or cannot be rendered; run ${RENDER_COMMAND.join(' ')} and commit):\n${stderr}`,
    );
  }
}

function parseImages(values) {
  const images = new Map();
  for (const pair of values ?? []) {
    const at = pair.indexOf('=');
    const service = pair.slice(0, at);
    const digest = pair.slice(at + 1);
    if (at < 1) fail(`--image "${pair}": expected <service>=sha256:<64 hex>`);
    if (!DIGEST.test(digest))
      fail(`--image ${service}: "${digest}" is not a digest (sha256:<64 lowercase hex>)`);
    if (images.has(service)) fail(`--image ${service} given twice`);
    images.set(service, digest);
  }
  if (images.size === 0) fail('nothing to promote: pass at least one --image <service>=sha256:<digest>');
  return images;
}

/** Plans every edit first (reading and validating all files), so a bad input writes nothing. */
function planSet(root, options) {
  const env = options.env ?? fail('set: --env is required');
  const tag = options.tag;
  if (tag !== undefined && !TAG.test(tag)) fail(`--tag "${tag}" is not a valid image tag`);
  const source = options['source-commit'];
  if (source !== undefined && !GIT_SHA.test(source))
    fail(`--source-commit "${source}" is not a full commit SHA`);
  if (options.owner !== undefined) {
    const owner = readOwner(root);
    if (owner !== options.owner.toLowerCase()) {
      fail(
        `k8s/values-common.yaml has image.owner "${owner}" but the images are pushed under ` +
          `"${options.owner.toLowerCase()}": set image.owner to "${options.owner.toLowerCase()}", run ` +
          `${RENDER_COMMAND.join(' ')} and commit, or every promoted digest would point at an image that does not exist`,
      );
    }
  }
  return [...parseImages(options.image)].map(([service, digest]) => {
    const file = valuesFile(root, env, service);
    readImageBlock(readFileSync(file, 'utf8'), relative(root, file));
    return { env, service, file, tag, digest };
  });
}

const git = (root, args) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const chartSourceFile = (root, env) => join(root, 'k8s', env, 'chart-source.yaml');

const succeeds = (root, args) => {
  try {
    git(root, args);
    return true;
  } catch {
    return false;
  }
};

/** The branch recorded chart sources must be on (the same rule as deploy-tests' k8s-render.ts). */
export function chartSourceBase(root) {
  const configured = process.env.CHART_SOURCE_BASE?.trim();
  if (configured) return configured;
  return succeeds(root, ['rev-parse', '--verify', '--quiet', 'refs/remotes/origin/main'])
    ? 'origin/main'
    : 'HEAD';
}

const BOOTSTRAP_HINT =
  'If this repository was created from a template or a squashed import (fresh history), run ' +
  '`node .github/scripts/promote-image.mjs bootstrap` and commit (MICROSERVICES_README.md, "Adopting the ' +
  'pipeline with fresh history"). If a promotion was made on a pull request\'s branch and squash- or ' +
  'rebase-merged, promote again from main.';

/** Fails unless `commit` exists here and is an ancestor of the base branch, so it survives any merge method. */
function assertOnBase(root, commit, what) {
  const base = chartSourceBase(root);
  if (!succeeds(root, ['cat-file', '-e', `${commit}^{commit}`]))
    fail(
      `${what}: commit ${commit} is not in this clone (a shallow clone needs fetch-depth: 0). ${BOOTSTRAP_HINT}`,
    );
  if (!succeeds(root, ['merge-base', '--is-ancestor', commit, base]))
    fail(
      `${what}: commit ${commit} is not an ancestor of ${base}, the branch it must be on. ${BOOTSTRAP_HINT}`,
    );
}

/** The `commit:` under `chart:` in k8s/<env>/chart-source.yaml, with its line, or null when there is no file. */
export function readChartSource(text, file) {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^chart:[ ]*(#.*)?$/.test(line));
  for (let i = start + 1; start >= 0 && i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() !== '' && !line.startsWith(' ') && !line.startsWith('#')) break;
    const match = KEY_LINE.exec(line);
    if (match?.groups?.key === 'commit') {
      const commit = unquote(match.groups.value ?? '');
      if (!GIT_SHA.test(commit)) fail(`${file}:${i + 1}: chart.commit "${commit}" is not a full commit SHA`);
      return { lines, line: i, commit };
    }
  }
  return fail(`${file}: no \`chart:\` map with a \`commit:\` key`);
}

/**
 * The chart source an environment runs: for dev, the last commit that changed the chart inputs (dev is
 * rendered from its own commit, so that is what it runs); for the others, what chart-source.yaml records.
 */
function chartSourceOf(root, env) {
  if (env === 'dev') {
    const dirty = git(root, ['status', '--porcelain', '--', ...CHART_INPUTS]);
    if (dirty) {
      fail(
        `${CHART_INPUTS.join(' or ')} has uncommitted changes:\n${dirty}\ncommit them first: a promotion ` +
          'records a commit, and dev must be running exactly that commit',
      );
    }
    const commit = git(root, ['log', '-1', '--format=%H', 'HEAD', '--', ...CHART_INPUTS]);
    if (!GIT_SHA.test(commit)) fail(`no commit in this history touches ${CHART_INPUTS.join(', ')}`);
    assertOnBase(root, commit, `dev's chart source (the last commit touching ${CHART_INPUTS.join(' or ')})`);
    return commit;
  }
  const file = chartSourceFile(root, env);
  if (!existsSync(file))
    fail(`k8s/${env}/chart-source.yaml not found: it records the chart source ${env} is rendered from`);
  const { commit } = readChartSource(readFileSync(file, 'utf8'), relative(root, file));
  assertOnBase(root, commit, `k8s/${env}/chart-source.yaml`);
  return commit;
}

function planCopy(root, options) {
  const from = options.from ?? fail('copy: --from is required');
  const to = options.to ?? fail('copy: --to is required');
  const fromAt = ENVIRONMENTS.indexOf(from);
  const toAt = ENVIRONMENTS.indexOf(to);
  if (fromAt < 0 || toAt < 0) fail(`copy: environments are ${ENVIRONMENTS.join(', ')} (got ${from} → ${to})`);
  if (toAt !== fromAt + 1) {
    fail(
      `copy: ${from} → ${to} skips or reverses the order ${ENVIRONMENTS.join(' → ')}; promote one step at a time`,
    );
  }
  const chartCommit = chartSourceOf(root, from);
  const chartFile = chartSourceFile(root, to);
  if (!existsSync(chartFile))
    fail(`k8s/${to}/chart-source.yaml not found: it records the chart source ${to} is rendered from`);
  const current = readChartSource(readFileSync(chartFile, 'utf8'), relative(root, chartFile)).commit;
  const chart = { env: to, file: chartFile, commit: chartCommit };
  if (options['chart-only']) {
    if (options.service?.length) fail('copy: --chart-only moves no image, so it takes no --service');
    return { images: [], chart };
  }
  // The chart source is per environment, not per service: moving it for one service's promotion would
  // re-render every other service of the environment with a chart + image pair that never ran in ${from}.
  if (options.service?.length && current !== chartCommit) {
    fail(
      `copy: --service ${options.service.join(' --service ')} would also move the chart of every service in ` +
        `${to} (${current.slice(0, 7)} → ${chartCommit.slice(0, 7)}), so the others would run a chart and image ` +
        `combination that never ran in ${from}. Promote the chart first (--chart-only) or promote all services ` +
        '(no --service)',
    );
  }
  const services = options.service?.length ? options.service : servicesOf(root, from);
  const images = services.map((service) => {
    const sourceFile = valuesFile(root, from, service);
    const block = readImageBlock(readFileSync(sourceFile, 'utf8'), relative(root, sourceFile));
    if (!DIGEST.test(block.digest.value)) {
      fail(
        `k8s/${from}/${service}/values.yaml pins no digest (image.digest is "${block.digest.value}"): only images ` +
          `pinned by digest are promoted; release.yml writes dev's after a build on main (before that, ` +
          `--chart-only promotes the chart alone: MICROSERVICES_README.md, "The first promotion")`,
      );
    }
    const file = valuesFile(root, to, service);
    readImageBlock(readFileSync(file, 'utf8'), relative(root, file));
    return {
      env: to,
      service,
      file,
      tag: block.tag.value,
      digest: block.digest.value,
    };
  });
  return { images, chart };
}

function commitMessage(command, changes, chart, options) {
  const names = changes.map((c) => c.service).join(', ');
  const lines = [];
  if (command === 'set') {
    const source = options['source-commit'];
    const short = source ? source.slice(0, 7) : 'a local build';
    lines.push(`${changes[0]?.env}: deploy ${names} built from ${short}`, '');
    lines.push(`Pin ${changes[0]?.env} to the images built from ${source ?? 'a local build'}, by digest:`);
  } else {
    const what = [names, chart ? `chart ${chart.commit.slice(0, 7)}` : ''].filter(Boolean).join(' and ');
    lines.push(`${options.to}: promote ${what} from ${options.from}`, '');
    lines.push(`Make ${options.to} run what ${options.from} runs:`);
    if (chart) lines.push(`  chart: helm/microservice and k8s/values-common.yaml at ${chart.commit}`);
  }
  for (const c of changes) lines.push(`  ${c.service}: ${c.tag ?? '(tag unchanged)'} @ ${c.digest}`);
  const trailers = [];
  if (command === 'set' && options['source-commit'])
    trailers.push(`${SOURCE_TRAILER}: ${options['source-commit']}`);
  if (command === 'copy') trailers.push(`Promoted-From: ${options.from}`);
  if (chart) trailers.push(`Chart-Source: ${chart.commit}`);
  if (trailers.length > 0) lines.push('', ...trailers);
  return `${lines.join('\n')}\n`;
}

/**
 * For a repository adopted with fresh history: staging and prod record HEAD (which must be on the base
 * branch) as their chart source and are re-rendered from it. Their images stay as they are.
 */
function bootstrap(root, options) {
  const dirty = git(root, ['status', '--porcelain', '--', ...CHART_INPUTS]);
  if (dirty) fail(`${CHART_INPUTS.join(' or ')} has uncommitted changes:\n${dirty}\ncommit them first`);
  const head = git(root, ['rev-parse', 'HEAD']);
  const base = chartSourceBase(root);
  if (!succeeds(root, ['merge-base', '--is-ancestor', head, base]))
    fail(
      `bootstrap: HEAD (${head}) is not on ${base}: run it on a checkout of main, so the commit it records survives the merge`,
    );
  const environments = ENVIRONMENTS.filter((env) => env !== 'dev');
  for (const env of environments) {
    const file = chartSourceFile(root, env);
    if (!existsSync(file)) fail(`k8s/${env}/chart-source.yaml not found; ${LAYOUT_HINT}`);
    const source = readChartSource(readFileSync(file, 'utf8'), relative(root, file));
    const lines = [...source.lines];
    lines[source.line] = replaceValue(lines[source.line] ?? '', head);
    writeFileSync(file, lines.join('\n'));
    process.stdout.write(`${env}/chart: now ${head} (bootstrap)\n`);
  }
  if (!options['no-render']) render(root, environments);
  if (options['message-file']) {
    writeFileSync(
      options['message-file'],
      `staging, prod: record ${head.slice(0, 7)} as the chart source (bootstrap)\n\n` +
        'The recorded chart commits are not in this history (a template or a squashed import): staging and\n' +
        `prod now render helm/microservice and k8s/values-common.yaml as they are at ${head}.\n\n` +
        `Chart-Source: ${head}\n`,
    );
  }
}

export function main(argv, root) {
  const [command, ...rest] = argv;
  if (command !== 'set' && command !== 'copy' && command !== 'bootstrap')
    fail('usage: promote-image.mjs set|copy|bootstrap [options] (see the header of this file)');
  const { values: options } = parseArgs({
    args: rest,
    options: {
      env: { type: 'string' },
      tag: { type: 'string' },
      image: { type: 'string', multiple: true },
      'source-commit': { type: 'string' },
      owner: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      service: { type: 'string', multiple: true },
      'message-file': { type: 'string' },
      'chart-only': { type: 'boolean', default: false },
      'no-render': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (command === 'bootstrap') {
    bootstrap(root, options);
    return [];
  }
  const { images: plan, chart } =
    command === 'set' ? { images: planSet(root, options), chart: undefined } : planCopy(root, options);
  const doRender = !options['no-render'];
  // What this command renders: `set` its environment; `copy` the target (checked beforehand together with
  // the source, unless the target's chart source changes, when all of it is rendered anew).
  const target = command === 'set' ? (plan[0]?.env ?? options.env) : options.to;
  if (doRender) {
    const moving =
      chart !== undefined &&
      readChartSource(readFileSync(chart.file, 'utf8'), chart.file).commit !== chart.commit;
    checkRendered(root, command === 'set' ? [target] : moving ? [options.from] : [options.from, target]);
  }

  let chartChanged;
  if (chart) {
    const text = readFileSync(chart.file, 'utf8');
    const source = readChartSource(text, relative(root, chart.file));
    chartChanged = source.commit !== chart.commit;
    if (chartChanged) {
      const lines = [...source.lines];
      lines[source.line] = replaceValue(lines[source.line] ?? '', chart.commit);
      writeFileSync(chart.file, lines.join('\n'));
    }
    process.stdout.write(`${chart.env}/chart: ${chartChanged ? 'now' : 'already at'} ${chart.commit}\n`);
  }
  const changes = [];
  for (const step of plan) {
    const text = readFileSync(step.file, 'utf8');
    const next = setImage(text, relative(root, step.file), step);
    if (next !== text) {
      writeFileSync(step.file, next);
      changes.push(step);
    }
    process.stdout.write(
      `${step.env}/${step.service}: ${next === text ? 'already at' : 'now'} ${step.tag ?? '(tag unchanged)'} @ ${step.digest}\n`,
    );
  }
  const changedChart = chartChanged ? chart : undefined;
  const anything = changes.length > 0 || changedChart !== undefined;
  if (doRender && anything) {
    render(root, [target]);
    if (changedChart) {
      for (const service of servicesOf(root, changedChart.env)) {
        const manifests = join(root, 'k8s', changedChart.env, service, 'manifests.yaml');
        if (!readFileSync(manifests, 'utf8').includes(`\n# chart source: ${changedChart.commit} `)) {
          fail(
            `${relative(root, manifests)} was not rendered from ${changedChart.commit} after the promotion`,
          );
        }
      }
    }
    for (const step of changes) {
      const manifests = join(root, 'k8s', step.env, step.service, 'manifests.yaml');
      if (!existsSync(manifests) || !readFileSync(manifests, 'utf8').includes(`@${step.digest}`)) {
        fail(
          `${relative(root, manifests)} does not reference ${step.digest} after rendering: the chart no longer ` +
            `reads image.digest from k8s/${step.env}/${step.service}/values.yaml`,
        );
      }
    }
  }
  if (options['message-file'] && anything) {
    writeFileSync(options['message-file'], commitMessage(command, changes, changedChart, options));
  }
  if (process.env.GITHUB_OUTPUT) {
    appendFileSync(
      process.env.GITHUB_OUTPUT,
      `changed=${anything}\nservices=${changes.map((c) => c.service).join(' ')}\n`,
    );
  }
  return changes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    main(process.argv.slice(2), root);
  } catch (error) {
    if (!(error instanceof PromotionError || String(error?.code).startsWith('ERR_PARSE_ARGS'))) throw error;
    console.error(`promote-image: ${error.message}`);
    process.exitCode = 1;
  }
}
