import {
  createMetricsRegistry,
  MemoryBudget,
  MIN_MAX_RESPONSE_BYTES,
  silentLogger,
} from '@microservices/service-kit';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import { MemoryOrderStore } from '../../store/memory-order-store.js';
import { buildTestApp, metricValue, orderBody } from '../../test-app.js';

/** The largest order the API accepts, in plain ASCII: about 71 KB of JSON. */
const largestOrder = () =>
  orderBody({
    items: Array.from({ length: 100 }, (_, i) => ({
      product_id: `p${i}-`.padEnd(128, 'x'),
      product_name: 'n'.repeat(500),
      quantity: 10_000,
      price: 1_000_000,
    })),
    shipping_address: 'a'.repeat(1000),
  });

/** The `cursor` URL a Link header points at, or null when there is none. */
const nextOf = (res: { headers: Headers }): string | null => {
  const link = res.headers.get('link');
  if (link === null) return null;
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  if (!match?.[1]) throw new Error(`unexpected Link header ${link}`);
  return match[1];
};

describe('GET /api/v1/orders: answers are bounded in bytes as well as items', () => {
  it('when large orders would exceed the byte budget, then the page stops below it and Link says where to resume', async () => {
    const { client } = buildTestApp({ maxResponseBytes: MIN_MAX_RESPONSE_BYTES });
    const created: string[] = [];
    for (let i = 0; i < 20; i++)
      created.push((await client.post<Order>('/api/v1/orders', largestOrder())).body.id);

    const first = await client.get<Order[]>('/api/v1/orders?limit=1000');
    expect(first.status).toBe(200);
    expect(Buffer.byteLength(first.text)).toBeLessThanOrEqual(MIN_MAX_RESPONSE_BYTES);
    expect(first.body.length).toBeGreaterThan(1);
    expect(first.body.length).toBeLessThan(20);

    const seen = first.body.map((o) => o.id);
    let next = nextOf(first);
    for (let pages = 0; next !== null && pages < 20; pages++) {
      expect(next).toMatch(/^\/api\/v1\/orders\?limit=1000&cursor=[A-Za-z0-9_-]+$/);
      const page = await client.get<Order[]>(next);
      expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(MIN_MAX_RESPONSE_BYTES);
      seen.push(...page.body.map((o) => o.id));
      next = nextOf(page);
    }
    expect(seen).toEqual(created);
  });

  it('when the page holds everything, then there is no Link header', async () => {
    const { client, createOrder } = buildTestApp();
    await createOrder();
    await createOrder();
    const res = await client.get<Order[]>('/api/v1/orders?limit=2');
    expect(res.body).toHaveLength(2);
    expect(res.headers.get('link')).toBeNull();
  });

  it('when limit cuts the page, then Link resumes after it, keeping user_id', async () => {
    const { client, createOrder } = buildTestApp();
    const ids = [(await createOrder()).id, (await createOrder()).id, (await createOrder()).id];
    const first = await client.get<Order[]>('/api/v1/orders?user_id=user-1&limit=2&skip=0');
    expect(first.body.map((o) => o.id)).toEqual(ids.slice(0, 2));
    const next = nextOf(first);
    expect(next).toMatch(/^\/api\/v1\/orders\?user_id=user-1&limit=2&cursor=/);
    const second = await client.get<Order[]>(next as string);
    expect(second.body.map((o) => o.id)).toEqual(ids.slice(2));
    expect(nextOf(second)).toBeNull();
  });

  it('when the per-user route pages, then its Link stays on that route', async () => {
    const { client, createOrder } = buildTestApp();
    await createOrder();
    await createOrder();
    const first = await client.get<Order[]>('/api/v1/orders/user/user-1?limit=1');
    expect(nextOf(first)).toMatch(/^\/api\/v1\/orders\/user\/user-1\?limit=1&cursor=/);
  });

  it.each([
    ['cursor and skip together', '?cursor=cDE&skip=1', 'query.skip'],
    ['a cursor this service did not issue', '?cursor=bm9wZQ', 'query.cursor'],
    ['a cursor with characters outside base64url', '?cursor=a%2Fb', 'query.cursor'],
  ])('when the query has %s, then it is a 400 on that parameter', async (_, query, path) => {
    const { client } = buildTestApp();
    const res = await client.get<{ errors: Array<{ path: string }> }>(`/api/v1/orders${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.path)).toEqual([path]);
  });

  it('when the request is HEAD, then it answers the GET headers (Link included) with no body', async () => {
    const { app, createOrder } = buildTestApp();
    await createOrder();
    await createOrder();
    const res = await app.request('/api/v1/orders?limit=1', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('link')).toMatch(/rel="next"$/);
    expect(await res.text()).toBe('');
  });
});

describe('the in-memory store at its cap', () => {
  function fullApp() {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const budget = new MemoryBudget({ maxBytes: 40_000, logger: silentLogger(), registry });
    return { ...buildTestApp({ store: new MemoryOrderStore({ budget }), registry }), budget };
  }

  it('when a create would pass MEMORY_STORE_MAX_BYTES, then it is a 507 store-full, nothing is stored and reads keep working', async () => {
    const { client, registry, budget } = fullApp();
    let created = 0;
    let refused: { status: number; body: { type: string } } | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await client.post<{ type: string }>('/api/v1/orders', orderBody());
      if (res.status === 201) created++;
      else refused = res;
    }
    expect(created).toBeGreaterThan(0);
    expect(refused?.status).toBe(507);
    expect(refused?.body.type).toBe('urn:problem-type:store-full');
    expect(budget.usedBytes).toBeLessThanOrEqual(budget.maxBytes);
    const listed = await client.get<Order[]>('/api/v1/orders?limit=1000');
    expect(listed.body).toHaveLength(created);
    expect(await metricValue(registry, 'memory_store_refused_writes_total')).toBe(1);
  });

  it('when orders are deleted, then their room is given back and creates succeed again', async () => {
    const { client, createOrder, budget } = fullApp();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await client.post<Order>('/api/v1/orders', orderBody());
      if (res.status !== 201) break;
      ids.push(res.body.id);
    }
    const usedWhenFull = budget.usedBytes;
    expect((await client.delete(`/api/v1/orders/${ids[0]}`)).status).toBe(204);
    expect(budget.usedBytes).toBeLessThan(usedWhenFull);
    await createOrder();
  });

  it('when an idempotent create is replayed at the cap, then the replay is still answered', async () => {
    const { client } = fullApp();
    const key = { headers: { 'Idempotency-Key': 'replay-at-cap' } };
    const first = await client.post<Order>('/api/v1/orders', orderBody(), key);
    expect(first.status).toBe(201);
    for (let i = 0; i < 200; i++)
      if ((await client.post('/api/v1/orders', orderBody())).status === 507) break;
    const replay = await client.post<Order>('/api/v1/orders', orderBody(), key);
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
  });
});

describe('MIN_MAX_RESPONSE_BYTES against the largest valid order', () => {
  it('when every text is a character JSON escapes six-fold, then one order still fits the smallest budget', async () => {
    const { client } = buildTestApp({ maxResponseBytes: MIN_MAX_RESPONSE_BYTES });
    const worst = orderBody({
      items: Array.from({ length: 100 }, () => ({
        product_id: '\u0001'.repeat(128),
        product_name: '\u0001'.repeat(500),
        quantity: 10_000,
        price: 999_999.99,
      })),
      shipping_address: '\u0001'.repeat(1000),
    });
    expect((await client.post('/api/v1/orders', worst)).status).toBe(201);
    expect((await client.post('/api/v1/orders', worst)).status).toBe(201);
    const page = await client.get<Order[]>('/api/v1/orders?limit=1000');
    expect(page.body.length).toBeGreaterThanOrEqual(1);
    expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(MIN_MAX_RESPONSE_BYTES);
  });
});
