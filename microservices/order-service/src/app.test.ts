import { describe, expect, it } from 'vitest';
import { buildTestApp, metricValue } from './test-app.js';

type ResponseDoc = { content?: Record<string, unknown>; headers?: Record<string, unknown> };
type OperationDoc = { operationId?: string; responses: Record<string, ResponseDoc> };
type OpenApiDoc = { openapi: string; paths: Record<string, Record<string, OperationDoc>> };

/** `/openapi.json` is not itself an operation in the document, so it is fetched without the checked client. */
async function openApiDocument(): Promise<OpenApiDoc> {
  const { app } = buildTestApp();
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDoc;
}

describe('GET /', () => {
  it('when called, then it names the service, its version and where the docs are', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'order-service', version: '1.2.3', docs: '/docs' });
  });
});

describe('unknown routes', () => {
  it('when the path matches no route, then it answers a 404 problem', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when the method is not one the path supports, then it answers a 405 problem with Allow listing the ones it does', async () => {
    const { client } = buildTestApp();
    const res = await client.request('PATCH', '/api/v1/orders/some-id', { json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');
  });
});

// Validity, the operations, problem+json errors and operationIds: the shared contract (contract.test.ts).
describe('GET /openapi.json', () => {
  it.each([
    [
      'post',
      '/api/v1/orders',
      ['201', '400', '404', '408', '413', '415', '422', '429', '431', '500', '503', '507'],
    ],
    ['get', '/api/v1/orders', ['200', '400', '408', '429', '431', '500', '503']],
    ['get', '/api/v1/orders/{order_id}', ['200', '400', '404', '408', '429', '431', '500', '503']],
    [
      'put',
      '/api/v1/orders/{order_id}',
      ['200', '400', '404', '408', '409', '413', '415', '429', '431', '500', '503', '507'],
    ],
    ['delete', '/api/v1/orders/{order_id}', ['204', '400', '404', '408', '429', '431', '500', '503']],
    ['get', '/api/v1/orders/user/{user_id}', ['200', '400', '408', '429', '431', '500', '503']],
    ['get', '/health/ready', ['200', '503']],
  ])('when fetched, then %s %s documents statuses %j', async (method, path, statuses) => {
    const doc = await openApiDocument();
    expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort()).toEqual(statuses);
  });
});

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
