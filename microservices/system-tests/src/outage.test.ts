import {
  type CheckedClient,
  type CheckedResponse,
  httpClient,
  pollUntil,
} from '@microservices/service-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ATTEMPT_TIMEOUT_MS,
  DEADLINE_MS,
  exampleOrder,
  exampleUser,
  FAST_RESILIENCE,
  type Order,
  type Problem,
  type Readiness,
  type User,
} from './support/fixtures.js';
import { jsonLogs, waitForLog } from './support/logs.js';
import { startPair } from './support/pair.js';
import { type RunningService, startService, stopAll } from './support/processes.js';
import { metricValue, parseMetrics, type Sample } from './support/prometheus.js';
import { type StandIn, startSilentServer } from './support/stand-in-servers.js';

/** Slack on top of the deadline for process scheduling and the HTTP round trip; a bound, not a benchmark. */
const DEADLINE_SLACK_MS = 300;
/** "Fast" for a refusal by the open breaker, which never touches the network: generous. */
const FAST_MS = 100;

const standIns: StandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.close()));
  await stopAll();
});

async function killUserService(users: RunningService): Promise<void> {
  users.kill();
  const { signal } = await users.exited;
  expect(signal).toBe('SIGKILL');
}

async function scrape(api: CheckedClient): Promise<Sample[]> {
  const res = await api.get<string>('/metrics');
  expect(res.status).toBe(200);
  return parseMetrics(res.body);
}

function expectUnavailable(res: CheckedResponse<Problem>): void {
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(res.body).toMatchObject({ status: 503, detail: expect.any(String) });
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

/** Sum of order-service responses with a 5xx status other than 503, from its own metrics. */
const unexpected5xx = (metrics: readonly Sample[]) =>
  metrics
    .filter((s) => s.name === 'http_requests_total' && /^5\d\d$/.test(s.labels.status_code ?? ''))
    .filter((s) => s.labels.status_code !== '503')
    .reduce((sum, s) => sum + s.value, 0);

describe('order-service while user-service is down', () => {
  it('when user-service is down, then an order for a user it never confirmed gets 503 + Retry-After within the deadline, the breaker opens and refuses fast, nothing is stored, and readiness stays 200 "degraded"', async () => {
    // The breaker stays open for the whole test, so every refusal below is the breaker's.
    const halfOpenMs = 3_000;
    const { users, orders, userApi, orderApi } = await startPair({
      USER_SERVICE_BREAKER_HALF_OPEN_MS: String(halfOpenMs),
    });
    const known = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
    const before = await orderApi.post<Order>('/api/v1/orders', exampleOrder(known.id));
    expect(before.status).toBe(201);
    await killUserService(users);
    let answered503 = 0;

    const first = await timed(() =>
      orderApi.post<Problem>('/api/v1/orders', exampleOrder('never-confirmed')),
    );
    expectUnavailable(first.result);
    answered503 += 1;
    expect(first.ms).toBeLessThanOrEqual(DEADLINE_MS + DEADLINE_SLACK_MS);

    // Three consecutive failed attempts open the breaker; with two retries the first order may already
    // have done it. Send a few more until the gauge says so.
    let state = metricValue(await scrape(orderApi), 'user_service_circuit_state');
    for (let i = 0; i < 5 && state !== 1; i += 1) {
      expectUnavailable(await orderApi.post<Problem>('/api/v1/orders', exampleOrder('never-confirmed')));
      answered503 += 1;
      state = metricValue(await scrape(orderApi), 'user_service_circuit_state');
    }
    expect(state).toBe(1);

    const refusedBefore = metricValue(await scrape(orderApi), 'user_service_requests_total', {
      outcome: 'circuit_open',
    });
    for (let i = 0; i < 3; i += 1) {
      const requestId = `refused-by-breaker-${i}`;
      const refused = await timed(() =>
        orderApi.post<Problem>('/api/v1/orders', exampleOrder(`never-confirmed-${i}`), {
          headers: { 'X-Request-Id': requestId },
        }),
      );
      expectUnavailable(refused.result);
      answered503 += 1;
      // Timed inside order-service (its access log), so a busy test process cannot blur it; the
      // round trip we saw must still beat a single attempt's timeout.
      const served = await waitForLog(
        orders,
        `the access log of ${requestId}`,
        (l) => l.req_id === requestId,
      );
      expect(served.duration_ms).toBeLessThan(FAST_MS);
      expect(refused.ms).toBeLessThan(ATTEMPT_TIMEOUT_MS);
      // Retry-After counts down to the half-open trial rather than the default 1 s.
      const retryAfter = Number(refused.result.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(2);
      expect(retryAfter).toBeLessThanOrEqual(halfOpenMs / 1000);
    }

    const metrics = await scrape(orderApi);
    expect(metricValue(metrics, 'user_service_circuit_state')).toBe(1);
    expect(
      metricValue(metrics, 'user_service_requests_total', { outcome: 'circuit_open' }) - refusedBefore,
    ).toBe(3);
    expect(metricValue(metrics, 'user_validation_cache_fallbacks_total')).toBe(0);
    expect(metricValue(metrics, 'http_requests_total', { route: '/api/v1/orders', status_code: '503' })).toBe(
      answered503,
    );
    expect(unexpected5xx(metrics)).toBe(0);
    expect(
      jsonLogs(orders.logs()).filter(
        (l) => typeof l.status === 'number' && l.status >= 500 && l.status !== 503,
      ),
    ).toEqual([]);

    const stored = await orderApi.get<Order[]>('/api/v1/orders');
    expect(stored.body).toEqual([before.body]);

    const ready = await orderApi.get<Readiness>('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.dependencies).toMatchObject({ store: 'healthy', 'user-service': 'unhealthy' });
  });

  it('when user-service accepts connections but never answers, then the order gets 503 + Retry-After once the deadline passes, not later', async () => {
    const silent = await startSilentServer();
    standIns.push(silent);
    const orders = await startService('order-service', { ...FAST_RESILIENCE, USER_SERVICE_URL: silent.url });
    const orderApi = httpClient(orders.url);
    await orderApi.contract();

    const { result, ms } = await timed(() =>
      orderApi.post<Problem>('/api/v1/orders', exampleOrder('waits-for-ever')),
    );

    expectUnavailable(result);
    // It waited for at least one attempt's timeout, and the deadline cut the retries short.
    expect(ms).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS);
    expect(ms).toBeLessThanOrEqual(DEADLINE_MS + DEADLINE_SLACK_MS);
    const metrics = await scrape(orderApi);
    expect(
      metricValue(metrics, 'user_service_requests_total', { outcome: 'timeout' }),
    ).toBeGreaterThanOrEqual(1);
    expect(unexpected5xx(metrics)).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([]);
  });

  it('when user-service is down, then an order for a recently validated user is accepted from the cache, counted, and logged as a warning', async () => {
    const { users, orders, userApi, orderApi } = await startPair();
    const known = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
    const validated = await orderApi.post<Order>('/api/v1/orders', exampleOrder(known.id));
    expect(validated.status).toBe(201);
    await killUserService(users);

    const res = await orderApi.post<Order>('/api/v1/orders', exampleOrder(known.id));

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ user_id: known.id, status: 'pending', total_amount: 999.99 });
    const metrics = await scrape(orderApi);
    expect(metricValue(metrics, 'user_validation_cache_fallbacks_total')).toBe(1);
    const warning = await waitForLog(
      orders,
      'the cache fallback warning',
      (line) => line.msg === 'user-service unavailable: accepted a recently validated user',
    );
    expect(warning).toMatchObject({ level: 'warn', user_id: known.id });
    const stored = await orderApi.get<Order[]>(`/api/v1/orders/user/${known.id}`);
    expect(stored.body.map((o) => o.id)).toEqual([validated.body.id, res.body.id]);
  });

  it('when USER_CACHE_ENABLED=false and user-service is down, then even a recently validated user gets 503 and nothing is stored', async () => {
    const { users, userApi, orderApi } = await startPair({ USER_CACHE_ENABLED: 'false' });
    const known = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
    const validated = await orderApi.post<Order>('/api/v1/orders', exampleOrder(known.id));
    expect(validated.status).toBe(201);
    await killUserService(users);

    const res = await orderApi.post<Problem>('/api/v1/orders', exampleOrder(known.id));

    expectUnavailable(res);
    const metrics = await scrape(orderApi);
    expect(metricValue(metrics, 'user_validation_cache_fallbacks_total')).toBe(0);
    expect(unexpected5xx(metrics)).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([validated.body]);
  });

  it('when user-service comes back on the same port, then orders for its users go through again without restarting order-service, and readiness returns to "ready"', async () => {
    const { users, orders, orderApi } = await startPair();
    await killUserService(users);
    expectUnavailable(await orderApi.post<Problem>('/api/v1/orders', exampleOrder('during-outage')));
    expect((await orderApi.get<Readiness>('/health/ready')).body.status).toBe('degraded');

    const restarted = await startService('user-service', { LOG_LEVEL: 'info', PORT: String(users.port) });
    expect(restarted.url).toBe(users.url);
    const userApi = httpClient(restarted.url);
    // The restarted user-service keeps users in memory: everything from before is gone.
    const fresh = await userApi.post<User>('/api/v1/users', exampleUser);
    expect(fresh.status).toBe(201);

    const statuses: number[] = [];
    const accepted = await pollUntil(
      'an order for the new user to be accepted',
      async () => {
        const res = await orderApi.post<Order>('/api/v1/orders', exampleOrder(fresh.body.id));
        statuses.push(res.status);
        return res.status === 201 ? res : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );

    expect(accepted.body).toMatchObject({ user_id: fresh.body.id, status: 'pending' });
    // While the breaker was still open the answer was 503; nothing else.
    expect(statuses.slice(0, -1).every((s) => s === 503)).toBe(true);
    expect(orders.process.exitCode).toBeNull();
    expect(
      orders.logs().filter((l) => typeof l === 'object' && l.msg === 'order-service listening'),
    ).toHaveLength(1);
    const ready = await pollUntil(
      'order-service readiness to be "ready"',
      async () => {
        const res = await orderApi.get<Readiness>('/health/ready');
        return res.body.status === 'ready' ? res : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 50 },
    );
    expect(ready.status).toBe(200);
    expect(ready.body.dependencies['user-service']).toBe('healthy');
    expect(metricValue(await scrape(orderApi), 'user_service_circuit_state')).toBe(0);
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([accepted.body]);
  });
});
