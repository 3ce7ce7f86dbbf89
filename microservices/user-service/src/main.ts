import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createGracefulShutdown,
  createLogDestination,
  createLogger,
  createMetricsRegistry,
  defaultSwaggerAssetsDir,
  exitOnSignals,
  Lifecycle,
  loadConfigOrExit,
  startHttpServer,
  systemClock,
} from '@microservices/service-kit';
import packageJson from '../package.json' with { type: 'json' };
import { createApp, SERVICE_NAME } from './app.js';
import { parseUserServiceEnv } from './env.js';
import { MemoryUserStore } from './store/memory-user-store.js';

// The only impure module: reads the environment, builds the parts, listens, and wires signals.
const env = loadConfigOrExit(SERVICE_NAME, () => parseUserServiceEnv(process.env));
const info = {
  service: SERVICE_NAME,
  version: env.APP_VERSION ?? packageJson.version,
  commit: env.GIT_COMMIT,
};
const logger = createLogger(
  { level: env.LOG_LEVEL, service: SERVICE_NAME, version: info.version },
  await createLogDestination({ pretty: process.stdout.isTTY === true }),
);

const store = new MemoryUserStore();
logger.warn('using the in-memory store: data is not persisted and is lost on restart');

// Bundled builds ship the Swagger UI files beside main.js; from source they come from node_modules.
const bundledAssets = fileURLToPath(new URL('./swagger-ui', import.meta.url));
const lifecycle = new Lifecycle();
const app = createApp({
  store,
  clock: systemClock,
  logger,
  registry: createMetricsRegistry({ defaultMetrics: true }),
  info,
  lifecycle,
  bodyLimitBytes: env.BODY_LIMIT_BYTES,
  corsOrigins: env.CORS_ORIGINS,
  docsAssetsDir: existsSync(bundledAssets) ? bundledAssets : defaultSwaggerAssetsDir(),
});

const { server, port } = await startHttpServer({
  fetch: app.fetch,
  port: env.PORT,
  host: env.HOST,
  keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
});
logger.info({ port, host: env.HOST, commit: info.commit }, `${SERVICE_NAME} listening`);

exitOnSignals(
  createGracefulShutdown({
    server,
    lifecycle,
    logger,
    delayMs: env.SHUTDOWN_DELAY_MS,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    resources: [{ name: 'store', close: () => store.close() }],
  }),
  logger,
);
