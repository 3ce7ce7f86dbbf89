import { httpClient, pollUntil } from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, type Order, type User } from '../support/fixtures.js';
import { startPair } from '../support/pair.js';
import { startService, stopAll } from '../support/processes.js';
import { metricValue } from '../support/prometheus.js';
import { reportFigures } from './support/resilience-report.js';
import {
  DEFAULT_RESILIENCE,
  type PlacedOrder,
  p99,
  placeOrders,
  scrape,
  servedMs,
  statusCounts,
  unexpected5xx,
} from './support/upstream.js';

afterEach(stopAll);

const DEADLINE_MS = Number(DEFAULT_RESILIENCE.USER_SERVICE_DEADLINE_MS);
const HALF_OPEN_MS = Number(DEFAULT_RESILIENCE.USER_SERVICE_BREAKER_HALF_OPEN_MS);
/** The bound for answers once the breaker is open. */
const OPEN_BREAKER_P99_MS = 50;
/** Orders sent while the breaker is open; well inside its 5 s open window at these rates. */
const WHILE_OPEN = 300;

function expect503WithRetryAfter(placed: readonly PlacedOrder[]): void {
  for (const { res, requestId } of placed) {
    expect(res.status, requestId).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(res.headers.get('retry-after')), requestId).toBeGreaterThanOrEqual(1);
  }
}

describe('group 1: user-service killed', () => {
  it('when user-service is killed, then orders for unconfirmed users get 503 + Retry-After within the deadline, fast once the breaker opens, nothing is stored, no 500s; when it returns, orders succeed again without restarting order-service', async () => {
    const { users, orders, orderApi } = await startPair(DEFAULT_RESILIENCE);
    users.kill();
    await users.exited;

    // Until the breaker opens: each order tries, retries and gives up within the deadline.
    const opening: PlacedOrder[] = [];
    for (let i = 0; i < 10; i += 1) {
      opening.push(...(await placeOrders(orderApi, 1, 1, () => `unconfirmed-${i}`, `opening-${i}`)));
      if (metricValue(await scrape(orderApi), 'user_service_circuit_state') === 1) break;
    }
    expect(metricValue(await scrape(orderApi), 'user_service_circuit_state')).toBe(1);
    expect503WithRetryAfter(opening);
    const openingServed = await servedMs(
      orders,
      opening.map((p) => p.requestId),
    );
    expect(Math.max(...openingServed)).toBeLessThanOrEqual(DEADLINE_MS);

    // Breaker open: refusals without touching the network.
    const openedAt = performance.now();
    const whileOpen = await placeOrders(orderApi, WHILE_OPEN, 8, (i) => `unconfirmed-open-${i}`, 'open');
    const openWindowMs = performance.now() - openedAt;
    expect503WithRetryAfter(whileOpen);
    const openServed = await servedMs(
      orders,
      whileOpen.map((p) => p.requestId),
    );
    expect(openServed).toHaveLength(WHILE_OPEN);
    expect(p99(openServed)).toBeLessThan(OPEN_BREAKER_P99_MS);
    const clientP99 = p99(whileOpen.map((p) => p.clientMs));

    const metrics = await scrape(orderApi);
    expect(unexpected5xx(metrics)).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([]);

    // user-service comes back on the same port (with an empty memory store: a new user).
    const restartedAt = performance.now();
    const restarted = await startService('user-service', { LOG_LEVEL: 'info', PORT: String(users.port) });
    const user = (await httpClient(restarted.url).post<User>('/api/v1/users', exampleUser)).body;
    const afterRestart: number[] = [];
    const accepted = await pollUntil(
      'an order to be accepted after user-service returned',
      async () => {
        const res = await orderApi.post<Order>('/api/v1/orders', exampleOrder(user.id));
        afterRestart.push(res.status);
        return res.status === 201 ? res : undefined;
      },
      { timeoutMs: HALF_OPEN_MS + 5_000, intervalMs: 100 },
    );
    const recoveryMs = performance.now() - restartedAt;
    expect(afterRestart.every((s) => s === 503 || s === 201)).toBe(true);
    expect(accepted.body.user_id).toBe(user.id);
    expect(orders.process.exitCode).toBeNull();
    expect(
      orders.logs().filter((l) => typeof l === 'object' && l.msg === 'order-service listening'),
    ).toHaveLength(1);
    const after = await scrape(orderApi);
    expect(metricValue(after, 'user_service_circuit_state')).toBe(0);
    expect(unexpected5xx(after)).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([accepted.body]);

    reportFigures('1 user-service down', {
      sent: opening.length + WHILE_OPEN + afterRestart.length,
      statuses: JSON.stringify(statusCounts([...opening, ...whileOpen])),
      until_breaker_open: opening.length,
      p99_before_open_ms: p99(openingServed),
      max_before_open_ms: Math.max(...openingServed),
      deadline_ms: DEADLINE_MS,
      p99_open_served_ms: p99(openServed),
      p99_open_client_ms: clientP99,
      open_rps: (WHILE_OPEN / openWindowMs) * 1000,
      stored_during_outage: 0,
      unexpected_5xx: unexpected5xx(after),
      recovery_ms_restart_to_201: recoveryMs,
      half_open_ms: HALF_OPEN_MS,
    });
  });
});
