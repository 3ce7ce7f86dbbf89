import { describe, expect, it } from 'vitest';
import { buildTestApp, metricValue } from './test-app.js';

// GET /, 404/405 problems and each operation's documented statuses: the shared contract (contract.test.ts).
describe('GET /metrics', () => {
  it('when scraped, then it answers Prometheus text with the order metrics', async () => {
    const { client } = buildTestApp();
    const res = await client.get<string>('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const name of [
      'orders_created_total',
      'order_status_changes_total',
      'user_validation_cache_fallbacks_total',
      'http_requests_total',
    ]) {
      expect(res.body).toContain(`# TYPE ${name} `);
    }
  });

  it('when orders were read, changed and deleted by id, then route labels are templates, never ids', async () => {
    const { client, createOrder, registry } = buildTestApp({ generateId: () => 'order-raw-id-123' });
    const order = await createOrder();
    await client.get(`/api/v1/orders/${order.id}`);
    await client.put(`/api/v1/orders/${order.id}`, { status: 'confirmed' });
    await client.get('/api/v1/orders/user/user-raw-id-456');
    await client.delete(`/api/v1/orders/${order.id}`);
    await client.get(`/api/v1/orders/${order.id}`);
    const text = await registry.metrics();
    expect(text).not.toContain('order-raw-id-123');
    expect(text).not.toContain('user-raw-id-456');
    const count = (method: string, route: string, status_code: string) =>
      metricValue(registry, 'http_requests_total', { method, route, status_code });
    expect(await count('POST', '/api/v1/orders', '201')).toBe(1);
    expect(await count('GET', '/api/v1/orders/:order_id', '200')).toBe(1);
    expect(await count('PUT', '/api/v1/orders/:order_id', '200')).toBe(1);
    expect(await count('GET', '/api/v1/orders/user/:user_id', '200')).toBe(1);
    expect(await count('DELETE', '/api/v1/orders/:order_id', '204')).toBe(1);
    expect(await count('GET', '/api/v1/orders/:order_id', '404')).toBe(1);
  });

  it('when a path matches no route, then it is counted as route="unmatched"', async () => {
    const { client, registry } = buildTestApp();
    await client.get('/api/v1/orders/a/b/c/raw-path');
    expect(
      await metricValue(registry, 'http_requests_total', { route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    expect(await registry.metrics()).not.toContain('raw-path');
  });

  it('when two apps are built, then their metrics do not share counts', async () => {
    const first = buildTestApp();
    const second = buildTestApp();
    await first.createOrder();
    expect(await metricValue(first.registry, 'orders_created_total')).toBe(1);
    expect(await metricValue(second.registry, 'orders_created_total')).toBe(0);
  });
});
