import { describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import { buildTestApp, KNOWN_USER, metricValue, orderBody } from '../../test-app.js';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: Array<{ path: string; message: string }>;
};

const item = (overrides: Record<string, unknown> = {}) => ({
  product_id: 'prod-1',
  product_name: 'Laptop',
  quantity: 1,
  price: 10,
  ...overrides,
});

describe('POST /api/v1/orders', () => {
  it('when the user exists, then it answers 201 with a pending order stamped with the clock time', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Order>('/api/v1/orders', orderBody());
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      user_id: KNOWN_USER,
      items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
      shipping_address: '123 Main St, City, Country',
      total_amount: 999.99,
      status: 'pending',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('when the order is created, then it is stored and GET answers the same order', async () => {
    const { client, store } = buildTestApp();
    const created = await client.post<Order>('/api/v1/orders', orderBody());
    expect(await store.get(created.body.id)).toEqual(created.body);
    const fetched = await client.get<Order>(`/api/v1/orders/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
  });

  it('when no id generator is injected, then the order id is a UUID', async () => {
    const { createOrder } = buildTestApp();
    const order = await createOrder();
    expect(order.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('when an id generator is injected, then the order gets its id', async () => {
    const { createOrder } = buildTestApp({ generateId: () => 'order-42' });
    expect((await createOrder()).id).toBe('order-42');
  });

  it('when text fields have surrounding spaces, then they are stored trimmed', async () => {
    const { createOrder } = buildTestApp();
    const order = await createOrder({
      items: [item({ product_id: ' prod-9 ', product_name: '  Mouse ' })],
      shipping_address: '  1 Road  ',
    });
    expect(order.items[0]).toMatchObject({ product_id: 'prod-9', product_name: 'Mouse' });
    expect(order.shipping_address).toBe('1 Road');
  });

  it('when the order is created, then the user was checked once with user-service', async () => {
    const { client, users } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    expect(users.calls.map((call) => call.userId)).toEqual([KNOWN_USER]);
  });

  it('when the request carries X-Request-Id, then the user lookup carries the same id', async () => {
    const { client, users } = buildTestApp();
    const res = await client.post('/api/v1/orders', orderBody(), {
      headers: { 'X-Request-Id': 'trace-abc' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('trace-abc');
    expect(users.calls).toEqual([{ userId: KNOWN_USER, requestId: 'trace-abc' }]);
  });

  it('when the request has no X-Request-Id, then the lookup carries the id generated for the response', async () => {
    const { client, users } = buildTestApp();
    const res = await client.post('/api/v1/orders', orderBody());
    const generated = res.headers.get('x-request-id');
    expect(generated).toBeTruthy();
    expect(users.calls[0]?.requestId).toBe(generated);
  });

  it('when an order is created, then orders_created_total{status="pending"} counts it', async () => {
    const { createOrder, registry } = buildTestApp();
    await createOrder();
    await createOrder();
    expect(await metricValue(registry, 'orders_created_total', { status: 'pending' })).toBe(2);
  });
});

describe('POST /api/v1/orders: total_amount', () => {
  it.each([
    ['2 × 10.99', [item({ quantity: 2, price: 10.99 })], 21.98],
    ['3 × 0.1', [item({ quantity: 3, price: 0.1 })], 0.3],
    ['0.1 + 0.2', [item({ price: 0.1 }), item({ product_id: 'p2', price: 0.2 })], 0.3],
    [
      '3 × 19.99 + 1 × 0.01',
      [item({ quantity: 3, price: 19.99 }), item({ product_id: 'p2', price: 0.01 })],
      59.98,
    ],
    [
      '7 × 1.15 + 2 × 4.35',
      [item({ quantity: 7, price: 1.15 }), item({ product_id: 'p2', quantity: 2, price: 4.35 })],
      16.75,
    ],
    ['a free item', [item({ price: 0 })], 0],
    [
      'a free item and a paid one',
      [item({ price: 0 }), item({ product_id: 'p2', quantity: 2, price: 5.5 })],
      11,
    ],
    ['100 × 1,000,000 (the largest price)', [item({ quantity: 100, price: 1_000_000 })], 100_000_000],
  ])('when the items are %s, then total_amount is exact', async (_label, items, expected) => {
    const { client } = buildTestApp();
    const res = await client.post<Order>('/api/v1/orders', orderBody({ items }));
    expect(res.status).toBe(201);
    expect(res.body.total_amount).toBe(expected);
  });

  it('when the total is serialised, then the JSON text has no float noise', async () => {
    const { client } = buildTestApp();
    const res = await client.post(
      '/api/v1/orders',
      orderBody({ items: [item({ quantity: 3, price: 0.1 })] }),
    );
    expect(res.text).toContain('"total_amount":0.3');
  });
});

describe('POST /api/v1/orders: user verification', () => {
  it('when user-service says the user does not exist, then it answers 404 "User not found"', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>('/api/v1/orders', orderBody({ user_id: 'ghost' }));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found', detail: 'User not found' });
    expect(res.body.detail).toBe('User not found');
  });

  it('when the user does not exist, then nothing is stored and nothing is counted', async () => {
    const { client, store, registry } = buildTestApp();
    await client.post('/api/v1/orders', orderBody({ user_id: 'ghost' }));
    expect(await store.list({ skip: 0, limit: 100, maxBytes: 1_048_576 })).toEqual([]);
    expect(await metricValue(registry, 'orders_created_total')).toBe(0);
  });

  it('when user-service is unavailable, then it answers 503 problem with Retry-After', async () => {
    const { client, users } = buildTestApp();
    users.goDown('connection_error', 7);
    const res = await client.post<Problem>('/api/v1/orders', orderBody(), {
      headers: { 'X-Request-Id': 'req-503' },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({
      type: 'urn:problem-type:user-service-unavailable',
      status: 503,
      title: 'Service Unavailable',
      detail: expect.stringContaining('user-service'),
      instance: '/api/v1/orders',
      request_id: 'req-503',
    });
  });

  it('when user-service suggests a fractional or zero retry delay, then Retry-After is a whole second ≥ 1', async () => {
    const { client, users } = buildTestApp();
    users.goDown('circuit_open', 0);
    const res = await client.post('/api/v1/orders', orderBody());
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('when user-service is unavailable, then nothing is stored', async () => {
    const { client, users, store, registry } = buildTestApp();
    users.goDown();
    await client.post('/api/v1/orders', orderBody());
    expect(await store.list({ skip: 0, limit: 100, maxBytes: 1_048_576 })).toEqual([]);
    expect(await metricValue(registry, 'orders_created_total')).toBe(0);
  });

  it('when the body is invalid, then user-service is not asked', async () => {
    const { client, users } = buildTestApp();
    await client.post('/api/v1/orders', orderBody({ items: [] }));
    expect(users.calls).toEqual([]);
  });
});

describe('POST /api/v1/orders: known-users cache', () => {
  it('when a validated user is ordered for while user-service is down, then it answers 201 and counts a fallback', async () => {
    const { client, users, registry, store } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    users.goDown();
    const res = await client.post<Order>('/api/v1/orders', orderBody());
    expect(res.status).toBe(201);
    expect(await store.get(res.body.id)).not.toBeNull();
    expect(await metricValue(registry, 'user_validation_cache_fallbacks_total')).toBe(1);
    expect(users.calls).toHaveLength(2);
  });

  it('when user-service is up, then every order still asks it and no fallback is counted', async () => {
    const { client, users, registry } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    await client.post('/api/v1/orders', orderBody());
    expect(users.calls).toHaveLength(2);
    expect(await metricValue(registry, 'user_validation_cache_fallbacks_total')).toBe(0);
  });

  it('when the user was never validated and user-service is down, then it answers 503', async () => {
    const { client, users } = buildTestApp();
    users.goDown();
    const res = await client.post('/api/v1/orders', orderBody());
    expect(res.status).toBe(503);
  });

  it('when the TTL has passed since the user was validated, then user-service being down answers 503', async () => {
    const { client, users, clock, registry } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    users.goDown();
    clock.advance(30_001);
    const res = await client.post('/api/v1/orders', orderBody());
    expect(res.status).toBe(503);
    expect(await metricValue(registry, 'user_validation_cache_fallbacks_total')).toBe(0);
  });

  it('when a fallback was just used and then the TTL passes, then the next order answers 503', async () => {
    const { client, users, clock } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    users.goDown();
    const withinTtl = await client.post('/api/v1/orders', orderBody());
    clock.advance(30_001);
    const afterTtl = await client.post('/api/v1/orders', orderBody());
    expect([withinTtl.status, afterTtl.status]).toEqual([201, 503]);
  });

  it('when the TTL has not quite passed, then the fallback still applies', async () => {
    const { client, users, clock } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    users.goDown();
    clock.advance(29_999);
    const res = await client.post('/api/v1/orders', orderBody());
    expect(res.status).toBe(201);
  });

  it('when user-service later says the user is gone, then the cache forgets the user', async () => {
    const { client, users } = buildTestApp();
    await client.post('/api/v1/orders', orderBody());
    users.knownUsers.delete(KNOWN_USER);
    const gone = await client.post('/api/v1/orders', orderBody());
    users.goDown();
    const whileDown = await client.post('/api/v1/orders', orderBody());
    expect([gone.status, whileDown.status]).toEqual([404, 503]);
  });

  it('when the cache is disabled, then user-service being down answers 503 even for a validated user', async () => {
    const { client, users, registry } = buildTestApp({
      userCache: { enabled: false, ttlMs: 30_000, maxEntries: 1_000 },
    });
    await client.post('/api/v1/orders', orderBody());
    users.goDown();
    const res = await client.post('/api/v1/orders', orderBody());
    expect(res.status).toBe(503);
    expect(await metricValue(registry, 'user_validation_cache_fallbacks_total')).toBe(0);
  });

  it('when the cache is full, then the least recently validated user is the one forgotten', async () => {
    const { client, users } = buildTestApp({
      userCache: { enabled: true, ttlMs: 30_000, maxEntries: 1 },
    });
    users.knownUsers.add('user-2');
    await client.post('/api/v1/orders', orderBody({ user_id: KNOWN_USER }));
    await client.post('/api/v1/orders', orderBody({ user_id: 'user-2' }));
    users.goDown();
    const first = await client.post('/api/v1/orders', orderBody({ user_id: KNOWN_USER }));
    const second = await client.post('/api/v1/orders', orderBody({ user_id: 'user-2' }));
    expect([first.status, second.status]).toEqual([503, 201]);
  });
});

describe('POST /api/v1/orders: validation', () => {
  const fieldPaths = (body: Problem) => (body.errors ?? []).map((e) => e.path);

  it.each([
    ['no items', 'body.items', { items: [] }],
    ['quantity 0', 'body.items.0.quantity', { items: [item({ quantity: 0 })] }],
    ['quantity -1', 'body.items.0.quantity', { items: [item({ quantity: -1 })] }],
    ['quantity 1.5', 'body.items.0.quantity', { items: [item({ quantity: 1.5 })] }],
    ['quantity as a string', 'body.items.0.quantity', { items: [item({ quantity: '2' })] }],
    ['quantity above the maximum', 'body.items.0.quantity', { items: [item({ quantity: 10_001 })] }],
    ['price -1', 'body.items.0.price', { items: [item({ price: -1 })] }],
    ['price 1.005 (three decimals)', 'body.items.0.price', { items: [item({ price: 1.005 })] }],
    ['price above the maximum', 'body.items.0.price', { items: [item({ price: 1_000_000.01 })] }],
    ['a bad second item', 'body.items.1.quantity', { items: [item(), item({ quantity: 0 })] }],
    ['an empty product_id', 'body.items.0.product_id', { items: [item({ product_id: '' })] }],
    ['a blank product_name', 'body.items.0.product_name', { items: [item({ product_name: '   ' })] }],
    ['an empty user_id', 'body.user_id', { user_id: '' }],
    ['user_id as a number', 'body.user_id', { user_id: 42 }],
    ['a blank shipping_address', 'body.shipping_address', { shipping_address: '  ' }],
    ['an unknown top-level field', 'body.colour', { colour: 'red' }],
    ['an unknown field inside an item', 'body.items.0.colour', { items: [item({ colour: 'red' })] }],
  ])('when the body has %s, then it answers 400 naming %s', async (_label, path, overrides) => {
    const { client, store } = buildTestApp();
    const res = await client.post<Problem>('/api/v1/orders', orderBody(overrides));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, type: 'urn:problem-type:validation-error' });
    expect(fieldPaths(res.body)).toContain(path);
    expect(res.body.detail).toContain(path);
    expect(await store.list({ skip: 0, limit: 100, maxBytes: 1_048_576 })).toEqual([]);
  });

  it.each([['user_id'], ['items'], ['shipping_address']])(
    'when %s is missing, then it answers 400 naming it',
    async (field) => {
      const { client } = buildTestApp();
      const body: Record<string, unknown> = orderBody();
      delete body[field];
      const res = await client.post<Problem>('/api/v1/orders', body);
      expect(res.status).toBe(400);
      expect(fieldPaths(res.body)).toEqual([`body.${field}`]);
    },
  );

  it('when an item has several problems, then each is named', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(
      '/api/v1/orders',
      orderBody({ items: [item({ quantity: 0, price: -1, colour: 'red' })] }),
    );
    expect(fieldPaths(res.body).sort()).toEqual([
      'body.items.0.colour',
      'body.items.0.price',
      'body.items.0.quantity',
    ]);
  });

  it('when the body is not JSON, then it answers a 400 problem', async () => {
    const { client } = buildTestApp();
    const res = await client.request<Problem>('POST', '/api/v1/orders', {
      rawBody: '{"user_id": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when the body exceeds the limit, then it answers 413 and asks nobody', async () => {
    const { client, users } = buildTestApp({ bodyLimitBytes: 1_024 });
    const res = await client.post('/api/v1/orders', orderBody({ shipping_address: 'x'.repeat(2_000) }));
    expect(res.status).toBe(413);
    expect(users.calls).toEqual([]);
  });
});

describe('POST /api/v1/orders: text a store cannot keep verbatim', () => {
  it.each([
    ['user_id', { user_id: '\ud800' }, 'body.user_id'],
    ['user_id', { user_id: 'u\u0000' }, 'body.user_id'],
    ['shipping_address', { shipping_address: 'Main St \udc00' }, 'body.shipping_address'],
    ['product_name', { items: [item({ product_name: 'Lap\ud83dtop' })] }, 'body.items.0.product_name'],
  ])(
    'when %s is not well-formed Unicode or holds NUL, then it is a 400 on that field and user-service is never asked',
    async (_, overrides, path) => {
      const { client, users } = buildTestApp();
      const res = await client.post<Problem>('/api/v1/orders', orderBody(overrides));
      expect(res.status).toBe(400);
      expect(res.body.errors?.map((e) => e.path)).toContain(path);
      expect(users.calls).toHaveLength(0);
    },
  );

  it('when a name holds a surrogate pair (an emoji), then it is accepted and stored as sent', async () => {
    const { createOrder, store } = buildTestApp();
    const order = await createOrder({ items: [item({ product_name: 'Laptop \ud83d\ude00' })] });
    expect((await store.get(order.id))?.items[0]?.product_name).toBe('Laptop \ud83d\ude00');
  });
});

describe('GET /api/v1/orders?user_id=…: text a store cannot keep verbatim', () => {
  it('when user_id holds NUL, then it is a 400 on query.user_id (a 500 on PostgreSQL before)', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>('/api/v1/orders?user_id=%00');
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['query.user_id']);
  });

  it('when user_id is percent-encoded bytes that are not UTF-8, then they are kept as typed and match nobody', async () => {
    const { client, createOrder } = buildTestApp();
    await createOrder();
    const res = await client.get<unknown[]>('/api/v1/orders?user_id=%ED%A0%80x');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });
});
