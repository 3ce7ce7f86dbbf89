import { loadConfigOrExit, resolveMigrationsDir, runMigrationsCommand } from '@microservices/service-kit';
import { SERVICE_NAME } from './app.js';
import { parseUserServiceEnv } from './env.js';

// `node dist/migrate.js`: applies pending migrations and exits (Kubernetes Job / Argo CD PreSync hook).
const env = loadConfigOrExit(SERVICE_NAME, () => parseUserServiceEnv(process.env));
await runMigrationsCommand({
  service: SERVICE_NAME,
  env,
  migrationsDir: resolveMigrationsDir(import.meta.url),
  logLevel: env.LOG_LEVEL,
});
