// Renders k8s/<env>/<service>/manifests.yaml from helm/microservice (the one source of truth).
//   npm run render-k8s -w @microservices/deploy-tests            rewrite the files
//   npm run render-k8s -w @microservices/deploy-tests -- --check exit 1 when a file is out of date
import { writeFile } from 'node:fs/promises';
import { findDrift } from './support/k8s-render.js';
import { repoRoot } from './support/paths.js';

const check = process.argv.includes('--check');
const { checked, drift } = await findDrift();
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
