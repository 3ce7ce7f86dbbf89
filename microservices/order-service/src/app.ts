import { randomUUID } from 'node:crypto';
import { createServiceApp, createServicePager, type ServiceAppParts } from '@microservices/service-kit';
import { createOrderMetrics } from './metrics.js';
import { createOrdersRouter } from './routes/orders/orders.index.js';
import type { OrderStore } from './store/order-store.js';
import type { UserClient } from './user-client/user-client.js';
import { createUserVerifier, type KnownUsersCacheOptions } from './user-client/user-verifier.js';

export interface OrderAppDeps extends ServiceAppParts {
  store: OrderStore;
  userClient: UserClient;
  userCache?: KnownUsersCacheOptions;
  generateId?: () => string;
}

export const SERVICE_NAME = 'order-service';

/** Builds the order-service app from its parts. Never listens, reads the environment, or starts timers. */
export function createApp(deps: OrderAppDeps) {
  const app = createServiceApp(deps, {
    title: 'order-service',
    description:
      'Orders CRUD; each new order’s user is verified with user-service. Errors are application/problem+json (RFC 9457).',
    checks: [
      { name: 'store', critical: true, run: () => deps.store.check() },
      // Not critical: when user-service is down we still serve reads (and cached users), so stay in rotation.
      { name: 'user-service', critical: false, run: (signal) => deps.userClient.checkReady(signal) },
    ],
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
      pager: createServicePager(deps),
    }),
  );
  return app;
}
