#!/usr/bin/env node
// What a release publishes: the images and the chart an environment runs (prod, for release.yml on a v* tag).
//
//   node .github/scripts/release-refs.mjs --env prod --owner <ghcr owner>
//
// Prints one `ghcr.io/<owner>/<service>@sha256:…` per service and the chart commit, and writes `refs` (those
// lines) and `chart-commit` to $GITHUB_OUTPUT. A release re-tags these digests; it never builds, so what is
// released is byte for byte what ran in the environment. Fails, naming the file, when a service pins no
// digest (nothing was promoted there yet: MICROSERVICES_README.md, "The first promotion") or the images
// would be looked up under another owner than the one the pipeline pushes to. The image references come
// from the environment's rendered manifests (what Argo CD applies), not from HEAD's values-common.yaml: the
// registry and owner prod runs are those of its chart source, which HEAD may have changed since.
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readChartSource, readImageBlock } from './promote-image.mjs';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

class ReleaseError extends Error {}
const fail = (message) => {
  throw new ReleaseError(message);
};

/**
 * The one `<registry>/<owner>/<service>@sha256:…` the rendered manifests of a service run (the tag, if any,
 * dropped: a release tags the digest). Fails when they run none, several, or not the digest values.yaml pins.
 */
function renderedRef(root, env, service, digest) {
  const file = `k8s/${env}/${service}/manifests.yaml`;
  if (!existsSync(join(root, file)))
    fail(`${file} not found: render it (npm run render-k8s -w @microservices/deploy-tests)`);
  const text = readFileSync(join(root, file), 'utf8');
  const refs = new Set();
  for (const match of text.matchAll(/^\s*(?:- )?image: *"?([^"\s#]+)"?/gm)) {
    const image = match[1] ?? '';
    const at = image.indexOf('@');
    const name = (at < 0 ? image : image.slice(0, at)).replace(/:[^/:]+$/, '');
    if (!name.endsWith(`/${service}`)) continue;
    refs.add(at < 0 ? name : `${name}${image.slice(at)}`);
  }
  const expected = [...refs].filter((ref) => ref.endsWith(`@${digest}`));
  if (refs.size !== 1 || expected.length !== 1) {
    fail(
      `${file} runs ${[...refs].join(', ') || `no image of ${service}`}, not one image pinned to ${digest} ` +
        `(k8s/${env}/${service}/values.yaml): re-render and commit (npm run render-k8s -w @microservices/deploy-tests)`,
    );
  }
  return expected[0];
}

export function releaseRefs(root, env, owner) {
  const envDir = join(root, 'k8s', env);
  if (!existsSync(envDir)) fail(`k8s/${env} not found`);
  const sourceFile = join(envDir, 'chart-source.yaml');
  if (!existsSync(sourceFile)) fail(`k8s/${env}/chart-source.yaml not found: ${env} records no chart source`);
  const chartCommit = readChartSource(
    readFileSync(sourceFile, 'utf8'),
    `k8s/${env}/chart-source.yaml`,
  ).commit;
  const services = readdirSync(envDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(envDir, entry.name, 'values.yaml')))
    .map((entry) => entry.name)
    .sort();
  if (services.length === 0) fail(`k8s/${env} has no <service>/values.yaml`);
  const refs = services.map((service) => {
    const file = `k8s/${env}/${service}/values.yaml`;
    const { digest } = readImageBlock(readFileSync(join(root, file), 'utf8'), file);
    if (!DIGEST.test(digest.value)) {
      fail(
        `${file} pins no digest (image.digest is "${digest.value}"): a release re-tags what ${env} runs, and ` +
          `${env} runs nothing that was built by this pipeline yet; promote to ${env} first`,
      );
    }
    const ref = renderedRef(root, env, service, digest.value);
    const runsOwner = ref.split('/').at(-2);
    if (owner !== undefined && runsOwner !== owner.toLowerCase()) {
      fail(
        `k8s/${env}/${service}/manifests.yaml runs ${ref}, owner "${runsOwner}", but the images are pushed under ` +
          `"${owner.toLowerCase()}"`,
      );
    }
    return ref;
  });
  return { refs, chartCommit };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    const { values } = parseArgs({
      options: { env: { type: 'string', default: 'prod' }, owner: { type: 'string' } },
      strict: true,
    });
    const { refs, chartCommit } = releaseRefs(root, values.env ?? 'prod', values.owner);
    process.stdout.write(`${refs.join('\n')}\nchart: helm/microservice at ${chartCommit}\n`);
    if (process.env.GITHUB_OUTPUT) {
      appendFileSync(
        process.env.GITHUB_OUTPUT,
        `refs<<RELEASE_REFS_END\n${refs.join('\n')}\nRELEASE_REFS_END\nchart-commit=${chartCommit}\n`,
      );
    }
  } catch (error) {
    // ReleaseError here, PromotionError from the shared readers, or a bad option: all are answers to print.
    if (!(error instanceof Error) || error instanceof TypeError || error instanceof ReferenceError)
      throw error;
    console.error(`release-refs: ${error.message}`);
    process.exitCode = 1;
  }
}
