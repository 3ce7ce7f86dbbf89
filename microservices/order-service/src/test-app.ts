import { createMetricsRegistry, silentLogger } from '@microservices/service-kit';
import { FakeClock, inProcessClient } from '@microservices/service-kit/testing';
import type { Registry } from 'prom-client';
import { createApp, type OrderAppDeps } from './app.js';
import type { Order } from './domain/order.js';
import { MemoryOrderStore } from './store/memory-order-store.js';
import {
  type UnavailableReason,
  type UserClient,
  type UserRef,
  UserServiceUnavailableError,
} from './user-client/user-client.js';

/**
 * user-service as the order routes see it: users it knows, a switch that makes it unreachable,
 * a switch for its readiness, and a record of every lookup (with the request id it carried).
 */
export class FakeUserClient implements UserClient {
  readonly knownUsers: Set<string>;
  readonly calls: Array<{ userId: string; requestId: string }> = [];
  /** When set, every lookup throws it, as the HTTP client does when user-service cannot answer. */
  unavailable: UserServiceUnavailableError | null = null;
  /** When false, `checkReady` rejects, as when user-service's readiness probe fails. */
  ready = true;

  constructor(knownUsers: Iterable<string> = []) {
    this.knownUsers = new Set(knownUsers);
  }

  goDown(reason: UnavailableReason = 'connection_error', retryAfterSeconds = 1): void {
    this.unavailable = new UserServiceUnavailableError(reason, retryAfterSeconds);
  }

  comeBack(): void {
    this.unavailable = null;
  }

  async getUser(userId: string, context: { requestId: string }): Promise<UserRef | null> {
    this.calls.push({ userId, requestId: context.requestId });
    if (this.unavailable) throw this.unavailable;
    return this.knownUsers.has(userId) ? { id: userId } : null;
  }

  async checkReady(): Promise<void> {
    if (!this.ready) throw new Error('user-service readiness answered 503');
  }
}

/** A user the default fake user-service knows. */
export const KNOWN_USER = 'user-1';

/** A valid create body for `KNOWN_USER`; `overrides` replace top-level fields. */
export const orderBody = (overrides: Record<string, unknown> = {}) => ({
  user_id: KNOWN_USER,
  items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
  shipping_address: '123 Main St, City, Country',
  ...overrides,
});

/**
 * A fresh order-service app with real parts (memory store, fake clock, own registry), a fake
 * user-service that knows `KNOWN_USER`, and a contract-checked client over the app. The known-users
 * cache reads the same fake clock, so advancing `clock` expires cached users.
 */
export function buildTestApp(overrides: Partial<OrderAppDeps> = {}) {
  const clock = new FakeClock();
  const users = new FakeUserClient([KNOWN_USER]);
  const deps: OrderAppDeps = {
    store: new MemoryOrderStore(),
    userClient: users,
    clock,
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    info: { service: 'order-service', version: '1.2.3', commit: 'abc1234' },
    userCache: { enabled: true, ttlMs: 30_000, maxEntries: 1_000, now: () => deps.clock.now().getTime() },
    ...overrides,
  };
  const app = createApp(deps);
  const client = inProcessClient(app);

  /** Creates an order through the API and returns it; fails the test if that is not a 201. */
  const createOrder = async (overridesForBody: Record<string, unknown> = {}) => {
    const res = await client.post<Order>('/api/v1/orders', orderBody(overridesForBody));
    if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${res.text}`);
    return res.body;
  };

  // `clock` and `users` are the defaults (they only drive the app unless overridden); store and registry are the app's own.
  return { app, deps, client, clock, users, store: deps.store, registry: deps.registry, createOrder };
}

/**
 * The value of a counter or gauge series whose labels include `labels` (summed when several match);
 * 0 when no such series has been recorded yet.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
    .reduce((sum, v) => sum + v.value, 0);
}
