// The migrate command: `node dist/migrate.js` in a service's image (a Kubernetes Job or Argo CD PreSync hook)
// applies the pending migrations of the service it is bundled into, then exits 0, or 1 with the reason.
// It is one file for every service: build-service.mjs bundles it into each service's dist/ with the
// service's name (the `__SERVICE_NAME__` define) and copies the service's migrations/ to dist/migrations,
// beside it. Only what a migration needs is read: DATABASE_URL, the DB_* settings and LOG_LEVEL (what the
// chart's migration Job sets), so a Job never fails on a server-only variable.
import { z } from 'zod';
import {
  commonEnvShape,
  databaseEnvShape,
  loadConfigOrExit,
  parseEnv,
  refineStorageChoice,
  resolveMigrationsDir,
  runMigrationsCommand,
} from '../index.js';

/** Set by build-service.mjs (esbuild `define`); absent when this file is run from source. */
declare const __SERVICE_NAME__: string | undefined;

const service = typeof __SERVICE_NAME__ === 'string' ? __SERVICE_NAME__ : undefined;
if (!service) {
  console.error(
    'migrate: run the bundled dist/migrate.js of a service (npm run build -w @microservices/<service>): ' +
      'the service and its migrations come from its build',
  );
  process.exit(1);
}

const migrateEnv = z
  .object({ LOG_LEVEL: commonEnvShape.LOG_LEVEL, ...databaseEnvShape })
  .superRefine(refineStorageChoice);
const env = loadConfigOrExit(service, () => parseEnv(migrateEnv, process.env));
await runMigrationsCommand({
  service,
  env,
  migrationsDir: resolveMigrationsDir(import.meta.url),
  logLevel: env.LOG_LEVEL,
});
