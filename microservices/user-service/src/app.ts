import { randomUUID } from 'node:crypto';
import { createServiceApp, createServicePager, type ServiceAppParts } from '@microservices/service-kit';
import { createUserMetrics } from './metrics.js';
import { createUsersRouter } from './routes/users/users.index.js';
import type { UserStore } from './store/user-store.js';

export interface UserAppDeps extends ServiceAppParts {
  store: UserStore;
  generateId?: () => string;
}

export const SERVICE_NAME = 'user-service';

/** Builds the user-service app from its parts. Never listens, reads the environment, or starts timers. */
export function createApp(deps: UserAppDeps) {
  const app = createServiceApp(deps, {
    title: 'user-service',
    description: 'Users CRUD. Errors are application/problem+json (RFC 9457).',
    checks: [{ name: 'store', critical: true, run: () => deps.store.check() }],
  });
  app.route(
    '/api/v1/users',
    createUsersRouter({
      store: deps.store,
      clock: deps.clock,
      metrics: createUserMetrics(deps.registry),
      generateId: deps.generateId ?? randomUUID,
      pager: createServicePager(deps),
    }),
  );
  return app;
}
