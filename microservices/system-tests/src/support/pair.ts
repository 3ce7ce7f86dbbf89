import { type CheckedClient, httpClient } from '@microservices/service-kit/testing';
import { FAST_RESILIENCE } from './fixtures.js';
import { freePort, LOOPBACK, type RunningService, startService } from './processes.js';

export interface Pair {
  users: RunningService;
  orders: RunningService;
  userApi: CheckedClient;
  orderApi: CheckedClient;
}

/** Two distinct ports that were free a moment ago. */
export async function twoFreePorts(): Promise<[number, number]> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const [a, b] = await Promise.all([freePort(), freePort()]);
    if (a !== b) return [a, b];
  }
  throw new Error('could not find two distinct free ports');
}

/**
 * Starts user-service (plus `userEnv`) and an order-service wired to it (with FAST_RESILIENCE plus `orderEnv`), side by
 * side: order-service needs user-service's address, not its readiness, to start.
 */
export async function startPair(
  orderEnv: Record<string, string> = {},
  userEnv: Record<string, string> = {},
): Promise<Pair> {
  const [userPort, orderPort] = await twoFreePorts();
  const [users, orders] = await Promise.all([
    startService('user-service', { LOG_LEVEL: 'info', ...userEnv, PORT: String(userPort) }),
    startService('order-service', {
      ...FAST_RESILIENCE,
      USER_SERVICE_URL: `http://${LOOPBACK}:${userPort}`,
      PORT: String(orderPort),
      ...orderEnv,
    }),
  ]);
  return { users, orders, userApi: httpClient(users.url), orderApi: httpClient(orders.url) };
}
