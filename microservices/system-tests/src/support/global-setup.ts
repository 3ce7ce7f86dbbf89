import { spawnSync } from 'node:child_process';
import { repoRoot } from './service-paths.js';

/**
 * Builds both services once before any system test runs, so every test starts the same bundled
 * `dist/main.js` that `npm start` runs and the images ship. A failed build stops the whole run.
 */
export default async function buildServices(): Promise<void> {
  const result = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.error) throw new Error(`could not run npm run build: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `npm run build failed (exit ${result.status ?? result.signal}); see the build output above`,
    );
  }
}
