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
import { createOrderMetrics } from './metrics.js';
import { createOrdersRouter } from './routes/orders/orders.index.js';
import type { OrderStore } from './store/order-store.js';
import type { UserClient } from './user-client/user-client.js';
import { createUserVerifier, type KnownUsersCacheOptions } from './user-client/user-verifier.js';

export interface OrderAppDeps {
  store: OrderStore;
  userClient: UserClient;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  info: ServiceInfo;
  userCache?: KnownUsersCacheOptions;
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

export const SERVICE_NAME = 'order-service';

/** Builds the order-service app from its parts. Never listens, reads the environment, or starts timers. */
export function createApp(deps: OrderAppDeps) {
  const app = createServiceApp({
    info: deps.info,
    title: 'order-service',
    description:
      'Orders CRUD; each new order’s user is verified with user-service. Errors are application/problem+json (RFC 9457).',
    logger: deps.logger,
    registry: deps.registry,
    lifecycle: deps.lifecycle ?? new Lifecycle(),
    clock: deps.clock,
    checks: [
      { name: 'store', critical: true, run: () => deps.store.check() },
      // Not critical: when user-service is down we still serve reads (and cached users), so stay in rotation.
      { name: 'user-service', critical: false, run: (signal) => deps.userClient.checkReady(signal) },
    ],
    bodyLimitBytes: deps.bodyLimitBytes ?? 1_048_576,
    corsOrigins: deps.corsOrigins ?? [],
    docsAssetsDir: deps.docsAssetsDir ?? defaultSwaggerAssetsDir(),
    faults: deps.faults,
    random: deps.random,
  });
  app.route(
    '/api/v1/orders',
    createOrdersRouter({
      store: deps.store,
      users: createUserVerifier(
        deps.userClient,
        deps.userCache ?? { enabled: true, ttlMs: 30_000, maxEntries: 10_000 },
        deps.registry,
      ),
      clock: deps.clock,
      metrics: createOrderMetrics(deps.registry),
      generateId: deps.generateId ?? randomUUID,
    }),
  );
  return app;
}
