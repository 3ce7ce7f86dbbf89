import { randomUUID } from 'node:crypto';
import {
  type Clock,
  createServiceApp,
  defaultSwaggerAssetsDir,
  type FaultSettings,
  Lifecycle,
  type Logger,
  type ServiceInfo,
} from '@microservices/service-kit';
import type { Registry } from 'prom-client';
import { createUserMetrics } from './metrics.js';
import { createUsersRouter } from './routes/users/users.index.js';
import type { UserStore } from './store/user-store.js';

export interface UserAppDeps {
  store: UserStore;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  info: ServiceInfo;
  lifecycle?: Lifecycle;
  generateId?: () => string;
  bodyLimitBytes?: number;
  corsOrigins?: readonly string[];
  docsAssetsDir?: string;
  /** Fault injection settings (FAULTS_ENABLED=true); undefined: off. */
  faults?: FaultSettings | undefined;
  /** Randomness for fault injection; tests pass their own. */
  random?: () => number;
}

export const SERVICE_NAME = 'user-service';

/** Builds the user-service app from its parts. Never listens, reads the environment, or starts timers. */
export function createApp(deps: UserAppDeps) {
  const app = createServiceApp({
    info: deps.info,
    title: 'user-service',
    description: 'Users CRUD. Errors are application/problem+json (RFC 9457).',
    logger: deps.logger,
    registry: deps.registry,
    lifecycle: deps.lifecycle ?? new Lifecycle(),
    clock: deps.clock,
    checks: [{ name: 'store', critical: true, run: () => deps.store.check() }],
    bodyLimitBytes: deps.bodyLimitBytes ?? 1_048_576,
    corsOrigins: deps.corsOrigins ?? [],
    docsAssetsDir: deps.docsAssetsDir ?? defaultSwaggerAssetsDir(),
    faults: deps.faults,
    random: deps.random,
  });
  app.route(
    '/api/v1/users',
    createUsersRouter({
      store: deps.store,
      clock: deps.clock,
      metrics: createUserMetrics(deps.registry),
      generateId: deps.generateId ?? randomUUID,
    }),
  );
  return app;
}
