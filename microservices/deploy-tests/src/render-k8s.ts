// Renders k8s/<env>/<service>/manifests.yaml from helm/microservice (the one source of truth).
//   npm run render-k8s -w @microservices/deploy-tests            rewrite the files
//   npm run render-k8s -w @microservices/deploy-tests -- --check exit 1 when a file is out of date
//   … -- --env dev [--env staging]                               only those environments (a dev deploy
//                                                                must not wait on a staging/prod render)
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { repoRoot } from './support/deploy-paths.js';
import { ENVIRONMENTS, type EnvironmentName } from './support/helm.js';
import { findDrift } from './support/k8s-render.js';

const { values } = parseArgs({
  options: { check: { type: 'boolean', default: false }, env: { type: 'string', multiple: true } },
  strict: true,
});
const check = values.check === true;
const isEnvironment = (env: string): env is EnvironmentName =>
  (ENVIRONMENTS as readonly string[]).includes(env);
const environments = values.env?.length ? values.env : [...ENVIRONMENTS];
const unknown = environments.filter((env) => !isEnvironment(env));
if (unknown.length > 0) {
  console.error(`render-k8s: unknown environment ${unknown.join(', ')} (one of ${ENVIRONMENTS.join(', ')})`);
  process.exit(2);
}
try {
  const { checked, drift } = await findDrift(undefined, repoRoot, environments.filter(isEnvironment));
  for (const { path, expected } of drift) {
    const file = path.slice(repoRoot.length + 1);
    if (check) {
      console.error(`out of date: ${file}`);
    } else {
      await writeFile(path, expected);
      process.stdout.write(`rendered ${file}\n`);
    }
  }
  process.stdout.write(
    `${checked} manifests checked, ${drift.length} ${check ? 'out of date' : 'rewritten'}\n`,
  );
  if (check && drift.length > 0) process.exitCode = 1;
} catch (error) {
  // A recorded chart source that cannot be rendered: one message saying what to do, no stack trace.
  console.error(`render-k8s: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
