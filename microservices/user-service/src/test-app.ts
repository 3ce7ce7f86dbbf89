import { createMetricsRegistry, silentLogger } from '@microservices/service-kit';
import { FakeClock, inProcessClient } from '@microservices/service-kit/testing';
import { createApp, type UserAppDeps } from './app.js';
import { MemoryUserStore } from './store/memory-user-store.js';

/** A fresh user-service app with real parts (memory store, own registry) and a checked client over it. */
export function buildTestApp(overrides: Partial<UserAppDeps> = {}) {
  const deps: UserAppDeps = {
    store: new MemoryUserStore(),
    clock: new FakeClock(),
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    info: { service: 'user-service', version: '1.2.3', commit: 'abc1234' },
    ...overrides,
  };
  const app = createApp(deps);
  return { app, deps, client: inProcessClient(app) };
}
