import { type CheckedClient, httpClient } from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleUser, type Order, type User } from '../support/fixtures.js';
import { LOOPBACK, type RunningService, startService, stopAll } from '../support/processes.js';
import { metricValue } from '../support/prometheus.js';
import { reportFigures } from './support/resilience-report.js';
import {
  DEFAULT_RESILIENCE,
  p99,
  placeOrders,
  scrape,
  servedMs,
  statusCounts,
  unexpected5xx,
  upstreamAttempts,
} from './support/upstream.js';

const TIMEOUT_MS = Number(DEFAULT_RESILIENCE.USER_SERVICE_TIMEOUT_MS);
const DEADLINE_MS = Number(DEFAULT_RESILIENCE.USER_SERVICE_DEADLINE_MS);
const MAX_ATTEMPTS = 1 + Number(DEFAULT_RESILIENCE.USER_SERVICE_RETRIES);
/** The deadline bounds the user-service call; handling around it and event-loop lag on a loaded 2-core machine add a little. */
const DEADLINE_SLACK_MS = 150;

let users: RunningService;
let userApi: CheckedClient;
let user: User;

/** user-service with fault injection enabled (mode normal), shared by every scenario below. */
beforeAll(async () => {
  users = await startService('user-service', { FAULTS_ENABLED: 'true', LOG_LEVEL: 'warn' });
  userApi = httpClient(users.url);
  user = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
});
afterAll(stopAll);

async function setFault(change: Record<string, unknown>): Promise<void> {
  const res = await userApi.put('/admin/faults', change);
  expect(res.status).toBe(200);
}

/** A fresh order-service per scenario (default resilience, no user cache: every order asks user-service). */
async function orderService(env: Record<string, string> = {}) {
  const orders = await startService('order-service', {
    ...DEFAULT_RESILIENCE,
    USER_CACHE_ENABLED: 'false',
    USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
    ...env,
  });
  return { orders, orderApi: httpClient(orders.url) };
}

describe('group 2: user-service slow or erroring (fault injection)', () => {
  it('when user-service is slower than the attempt timeout, then every order gets 503 within the deadline after at most 1 + retries attempts, and nothing is stored', async () => {
    const { orders, orderApi } = await orderService({ USER_SERVICE_BREAKER_THRESHOLD: '1000' });
    await setFault({ mode: 'slow', delay_ms: TIMEOUT_MS + 500 });
    const count = 12;
    const placed = await placeOrders(orderApi, count, 4, () => user.id, 'slow');
    await setFault({ mode: 'normal' });

    expect(statusCounts(placed)).toEqual({ 503: count });
    for (const { res } of placed) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const served = await servedMs(
      orders,
      placed.map((p) => p.requestId),
    );
    expect(Math.max(...served)).toBeLessThanOrEqual(DEADLINE_MS + DEADLINE_SLACK_MS);
    // Each attempt waits a full timeout, so the deadline leaves room for at most two here; never more than 1 + retries.
    const metrics = await scrape(orderApi);
    const attempts = upstreamAttempts(metrics);
    expect(attempts).toBeLessThanOrEqual(count * MAX_ATTEMPTS);
    expect(attempts).toBeGreaterThanOrEqual(count * 2);
    expect(metricValue(metrics, 'user_service_requests_total', { outcome: 'timeout' })).toBe(attempts);
    expect(unexpected5xx(metrics)).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([]);
    reportFigures('2 user-service slow (delay > attempt timeout)', {
      sent: count,
      statuses: JSON.stringify(statusCounts(placed)),
      upstream_attempts: attempts,
      attempts_per_order: attempts / count,
      p99_served_ms: p99(served),
      max_served_ms: Math.max(...served),
      deadline_ms: DEADLINE_MS,
      unexpected_5xx: 0,
    });
  });

  it('when user-service is slow but within the attempt timeout, then every order succeeds in one attempt', async () => {
    const { orders, orderApi } = await orderService();
    await setFault({ mode: 'slow', delay_ms: '100-300' });
    const count = 12;
    const placed = await placeOrders(orderApi, count, 4, () => user.id, 'slow-ok');
    await setFault({ mode: 'normal' });

    expect(statusCounts(placed)).toEqual({ 201: count });
    const served = await servedMs(
      orders,
      placed.map((p) => p.requestId),
    );
    expect(Math.min(...served)).toBeGreaterThanOrEqual(100);
    const metrics = await scrape(orderApi);
    expect(upstreamAttempts(metrics)).toBe(count);
    expect((await orderApi.get<Order[]>('/api/v1/orders?limit=1000')).body).toHaveLength(count);
    reportFigures('2 user-service slow (delay < attempt timeout)', {
      sent: count,
      statuses: JSON.stringify(statusCounts(placed)),
      upstream_attempts: upstreamAttempts(metrics),
      p99_served_ms: p99(served),
    });
  });

  it('when user-service fails every request (error rate 1.0), then orders get 503 with bounded retries, the breaker opens and later orders are refused fast', async () => {
    const { orders, orderApi } = await orderService();
    await setFault({ mode: 'error', error_rate: 1 });
    const count = 40;
    const placed = await placeOrders(orderApi, count, 4, () => user.id, 'error-all');
    await setFault({ mode: 'normal' });

    expect(statusCounts(placed)).toEqual({ 503: count });
    const metrics = await scrape(orderApi);
    const attempts = upstreamAttempts(metrics);
    expect(attempts).toBeLessThanOrEqual(count * MAX_ATTEMPTS);
    expect(metricValue(metrics, 'user_service_requests_total', { outcome: 'server_error' })).toBe(attempts);
    // The breaker opened after five consecutive failures, so most orders never reached user-service.
    expect(metricValue(metrics, 'user_service_requests_total', { outcome: 'circuit_open' })).toBeGreaterThan(
      0,
    );
    expect(attempts).toBeLessThan(count);
    expect(unexpected5xx(metrics)).toBe(0);
    const served = await servedMs(
      orders,
      placed.map((p) => p.requestId),
    );
    expect(Math.max(...served)).toBeLessThanOrEqual(DEADLINE_MS + DEADLINE_SLACK_MS);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([]);
    reportFigures('2 user-service erroring (rate 1.0)', {
      sent: count,
      statuses: JSON.stringify(statusCounts(placed)),
      upstream_attempts: attempts,
      refused_by_open_breaker: metricValue(metrics, 'user_service_requests_total', {
        outcome: 'circuit_open',
      }),
      p99_served_ms: p99(served),
      max_served_ms: Math.max(...served),
      unexpected_5xx: 0,
    });
  });

  it('when user-service fails half its requests (error rate 0.5), then retries turn most orders into 201s, the rest are 503s, every 201 is stored and no 503 is', async () => {
    // A breaker that only trips on a long run of failures, so this scenario measures the retries.
    const { orders, orderApi } = await orderService({ USER_SERVICE_BREAKER_THRESHOLD: '50' });
    await setFault({ mode: 'error', error_rate: 0.5 });
    const count = 200;
    const placed = await placeOrders(orderApi, count, 8, () => user.id, 'error-half');
    await setFault({ mode: 'normal' });

    const counts = statusCounts(placed);
    expect(Object.keys(counts).sort()).toEqual(
      Object.keys(counts)
        .filter((s) => s === '201' || s === '503')
        .sort(),
    );
    const created = counts[201] ?? 0;
    // Three attempts fail together with probability 0.125: expect about 175 of 200; 150 is far outside chance.
    expect(created).toBeGreaterThanOrEqual(150);
    expect(created).toBeLessThan(count);
    const metrics = await scrape(orderApi);
    const attempts = upstreamAttempts(metrics);
    expect(attempts).toBeLessThanOrEqual(count * MAX_ATTEMPTS);
    expect(unexpected5xx(metrics)).toBe(0);
    const stored = (await orderApi.get<Order[]>('/api/v1/orders?limit=1000')).body;
    const createdIds = placed.filter((p) => p.res.status === 201).map((p) => (p.res.body as Order).id);
    expect(stored.map((o) => o.id).sort()).toEqual(createdIds.sort());
    const served = await servedMs(
      orders,
      placed.map((p) => p.requestId),
    );
    expect(Math.max(...served)).toBeLessThanOrEqual(DEADLINE_MS + DEADLINE_SLACK_MS);
    reportFigures('2 user-service erroring (rate 0.5)', {
      sent: count,
      statuses: JSON.stringify(counts),
      upstream_attempts: attempts,
      attempts_per_order: attempts / count,
      p99_served_ms: p99(served),
      unexpected_5xx: 0,
    });
  });
});
