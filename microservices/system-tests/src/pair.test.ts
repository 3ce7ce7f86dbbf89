import { afterEach, describe, expect, it } from 'vitest';
import {
  exampleOrder,
  exampleUser,
  type Order,
  type Problem,
  type Readiness,
  type User,
} from './support/fixtures.js';
import { waitForLog } from './support/logs.js';
import { startPair } from './support/pair.js';
import { stopAll } from './support/processes.js';
import { labelValues, metricValue, parseMetrics } from './support/prometheus.js';

afterEach(stopAll);

describe('order-service wired to a live user-service', () => {
  it("when the seed's example requests are sent, then the user and the order are created, read, listed, confirmed and deleted", async () => {
    const { users, userApi, orderApi } = await startPair();

    const created = await userApi.post<User>('/api/v1/users', exampleUser);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(exampleUser);
    const userId = created.body.id;
    expect((await userApi.get<User>(`/api/v1/users/${userId}`)).body).toEqual(created.body);

    const placed = await orderApi.post<Order>('/api/v1/orders', exampleOrder(userId));
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ ...exampleOrder(userId), status: 'pending', total_amount: 999.99 });
    const order = placed.body;

    const read = await orderApi.get<Order>(`/api/v1/orders/${order.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(order);

    const byUser = await orderApi.get<Order[]>(`/api/v1/orders/user/${userId}`);
    expect(byUser.status).toBe(200);
    expect(byUser.body).toEqual([order]);

    const confirmed = await orderApi.put<Order>(`/api/v1/orders/${order.id}`, { status: 'confirmed' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: order.id, status: 'confirmed', total_amount: 999.99 });
    expect(Date.parse(confirmed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(order.updated_at));

    const deleted = await orderApi.delete(`/api/v1/orders/${order.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await orderApi.get<Problem>(`/api/v1/orders/${order.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toEqual(expect.any(String));
    expect((await orderApi.get<Order[]>(`/api/v1/orders/user/${userId}`)).body).toEqual([]);
    // No bodies or emails in logs.
    expect(JSON.stringify(users.logs())).not.toContain(exampleUser.email);
  });

  it('when an order names a user that user-service does not know, then it answers 404 "User not found", asks once, and stores nothing', async () => {
    const { orderApi } = await startPair();

    const res = await orderApi.post<Problem>('/api/v1/orders', exampleOrder('nonexistent-id'));

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, detail: 'User not found' });
    expect((await orderApi.get<Order[]>('/api/v1/orders')).body).toEqual([]);
    expect((await orderApi.get<Order[]>('/api/v1/orders/user/nonexistent-id')).body).toEqual([]);
    const metrics = parseMetrics((await orderApi.get<string>('/metrics')).body);
    // "No such user" is an answer, not a failure: one attempt, never retried.
    expect(metricValue(metrics, 'user_service_requests_total', { outcome: 'not_found' })).toBe(1);
    expect(metricValue(metrics, 'user_service_requests_total')).toBe(1);
  });

  it("when an order carries X-Request-Id, then the response echoes it and user-service's access log records the lookup under the same id", async () => {
    const { users, orders, userApi, orderApi } = await startPair();
    const user = (await userApi.post<User>('/api/v1/users', exampleUser)).body;

    const res = await orderApi.post<Order>('/api/v1/orders', exampleOrder(user.id), {
      headers: { 'X-Request-Id': 'sys-trace-1' },
    });

    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('sys-trace-1');
    const lookup = await waitForLog(
      users,
      "the access-log line of order-service's user lookup",
      (line) => line.req_id === 'sys-trace-1' && line.msg === 'request completed',
    );
    expect(lookup).toMatchObject({
      method: 'GET',
      route: '/api/v1/users/:user_id',
      path: `/api/v1/users/${user.id}`,
      status: 200,
    });
    await waitForLog(
      orders,
      'the access-log line of the order',
      (line) => line.req_id === 'sys-trace-1' && line.route === '/api/v1/orders' && line.status === 201,
    );
  });

  it('when user-service is up, then order-service readiness is 200 "ready" with user-service "healthy"', async () => {
    const { orderApi } = await startPair();

    const res = await orderApi.get<Readiness>('/health/ready');

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.dependencies['user-service']).toBe('healthy');
  });

  it('when orders were placed and read, then /metrics counts found users and labels routes by template, never by raw id', async () => {
    const { userApi, orderApi } = await startPair();
    const user = (await userApi.post<User>('/api/v1/users', exampleUser)).body;
    const order = (await orderApi.post<Order>('/api/v1/orders', exampleOrder(user.id))).body;
    expect((await orderApi.get(`/api/v1/orders/${order.id}`)).status).toBe(200);
    expect((await orderApi.get(`/api/v1/orders/user/${user.id}`)).status).toBe(200);
    expect((await orderApi.get('/api/v1/orders/nonexistent-id')).status).toBe(404);
    expect((await orderApi.get(`/no/such/path/${order.id}`)).status).toBe(404);

    const orderMetrics = parseMetrics((await orderApi.get<string>('/metrics')).body);
    const userMetrics = parseMetrics((await userApi.get<string>('/metrics')).body);

    expect(
      metricValue(orderMetrics, 'user_service_requests_total', { outcome: 'found' }),
    ).toBeGreaterThanOrEqual(1);
    const orderRoutes = labelValues(orderMetrics, 'http_requests_total', 'route');
    expect(orderRoutes).toEqual(
      expect.arrayContaining([
        '/api/v1/orders',
        '/api/v1/orders/:order_id',
        '/api/v1/orders/user/:user_id',
        'unmatched',
      ]),
    );
    const userRoutes = labelValues(userMetrics, 'http_requests_total', 'route');
    expect(userRoutes).toContain('/api/v1/users/:user_id');
    for (const route of [...orderRoutes, ...userRoutes]) {
      expect(route).not.toContain(order.id);
      expect(route).not.toContain(user.id);
      expect(route).not.toContain('nonexistent-id');
    }
    expect(
      metricValue(orderMetrics, 'http_requests_total', {
        method: 'POST',
        route: '/api/v1/orders',
        status_code: '201',
      }),
    ).toBe(1);
  });
});
