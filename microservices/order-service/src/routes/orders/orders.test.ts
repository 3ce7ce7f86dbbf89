import { describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import { buildTestApp, metricValue } from '../../test-app.js';

type Problem = { status: number; detail: string; errors?: Array<{ path: string; message: string }> };

/** An app whose fake user-service knows `alice` and `bob`, with orders created alternately for them. */
async function appWithOrders(count: number) {
  const built = buildTestApp();
  built.users.knownUsers.add('alice').add('bob');
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) {
    orders.push(await built.createOrder({ user_id: i % 2 === 0 ? 'alice' : 'bob' }));
    built.clock.advance(1_000);
  }
  return { ...built, orders };
}

const ids = (orders: readonly Order[]) => orders.map((o) => o.id);

describe('GET /api/v1/orders', () => {
  it('when there are no orders, then it answers 200 with an empty array', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/api/v1/orders');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('when there are orders, then it lists them oldest first', async () => {
    const { client, orders } = await appWithOrders(3);
    const res = await client.get<Order[]>('/api/v1/orders');
    expect(res.body).toEqual(orders);
  });

  it('when listed twice after an order changed, then the order of the list is the same', async () => {
    const { client, orders } = await appWithOrders(3);
    const before = await client.get<Order[]>('/api/v1/orders');
    await client.put(`/api/v1/orders/${orders[0]?.id}`, { status: 'confirmed' });
    const after = await client.get<Order[]>('/api/v1/orders');
    expect(ids(after.body)).toEqual(ids(before.body));
  });

  it('when skip and limit are given, then it answers that page', async () => {
    const { client, orders } = await appWithOrders(5);
    const res = await client.get<Order[]>('/api/v1/orders?skip=1&limit=2');
    expect(ids(res.body)).toEqual(ids(orders.slice(1, 3)));
  });

  it('when skip is past the end, then it answers an empty array', async () => {
    const { client } = await appWithOrders(2);
    const res = await client.get('/api/v1/orders?skip=10');
    expect(res.body).toEqual([]);
  });

  it('when no limit is given, then it answers at most 100 orders', async () => {
    const { client } = await appWithOrders(101);
    const res = await client.get<Order[]>('/api/v1/orders');
    expect(res.body).toHaveLength(100);
  });

  it('when user_id is given, then it lists only that user’s orders, oldest first', async () => {
    const { client, orders } = await appWithOrders(5);
    const res = await client.get<Order[]>('/api/v1/orders?user_id=bob');
    expect(ids(res.body)).toEqual(ids(orders.filter((o) => o.user_id === 'bob')));
  });

  it('when user_id, skip and limit are given, then it pages within that user’s orders', async () => {
    const { client, orders } = await appWithOrders(6);
    const res = await client.get<Order[]>('/api/v1/orders?user_id=alice&skip=1&limit=1');
    expect(ids(res.body)).toEqual(ids(orders.filter((o) => o.user_id === 'alice').slice(1, 2)));
  });

  it.each([
    ['skip=-1', 'query.skip'],
    ['skip=abc', 'query.skip'],
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['limit=1.5', 'query.limit'],
    ['user_id=', 'query.user_id'],
    ['colour=red', 'query.colour'],
  ])('when the query is %s, then it answers 400 naming %s', async (query, path) => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`/api/v1/orders?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });
});

describe('GET /api/v1/orders/user/{user_id}', () => {
  it('when the user has orders, then it lists exactly theirs, oldest first', async () => {
    const { client, orders } = await appWithOrders(4);
    const res = await client.get<Order[]>('/api/v1/orders/user/alice');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(ids(orders.filter((o) => o.user_id === 'alice')));
  });

  it('when the user is unknown, then it answers 200 with an empty array without asking user-service', async () => {
    const { client, users } = buildTestApp();
    const res = await client.get('/api/v1/orders/user/nobody');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(users.calls).toEqual([]);
  });

  it('when an order has the id "user", then /user/{id} still lists the user’s orders', async () => {
    const { client, createOrder } = buildTestApp({ generateId: () => 'user' });
    await createOrder();
    const res = await client.get<Order[]>('/api/v1/orders/user/someone-else');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('when skip and limit are given, then it pages the user’s orders', async () => {
    const { client, orders } = await appWithOrders(6);
    const res = await client.get<Order[]>('/api/v1/orders/user/bob?skip=2&limit=5');
    expect(ids(res.body)).toEqual(ids(orders.filter((o) => o.user_id === 'bob').slice(2)));
  });

  it('when the user id has encoded characters, then it is matched decoded', async () => {
    const { client, users, createOrder } = buildTestApp();
    users.knownUsers.add('a b');
    const order = await createOrder({ user_id: 'a b' });
    const res = await client.get<Order[]>('/api/v1/orders/user/a%20b');
    expect(ids(res.body)).toEqual([order.id]);
  });

  it('when an unknown query parameter is given, then it answers 400', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/api/v1/orders/user/alice?colour=red');
    expect(res.status).toBe(400);
  });
});

describe('GET /api/v1/orders/{order_id}', () => {
  it('when the order exists, then it answers 200 with it', async () => {
    const { client, createOrder } = buildTestApp();
    const order = await createOrder();
    const res = await client.get(`/api/v1/orders/${order.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });

  it.each(['nonexistent-id', '123', 'a%20b', 'a%2Fb', 'ünïcödé'])(
    'when no order has the id %s, then it answers a 404 problem',
    async (id) => {
      const { client } = buildTestApp();
      const res = await client.get<Problem>(`/api/v1/orders/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toMatchObject({ status: 404, detail: 'Order not found' });
    },
  );
});

describe('DELETE /api/v1/orders/{order_id}', () => {
  it('when the order exists, then it answers 204 with no body and GET then answers 404', async () => {
    const { client, createOrder } = buildTestApp();
    const order = await createOrder();
    const res = await client.delete(`/api/v1/orders/${order.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const after = await client.get(`/api/v1/orders/${order.id}`);
    expect(after.status).toBe(404);
  });

  it('when an order is deleted, then it disappears from both lists', async () => {
    const { client, createOrder } = buildTestApp();
    const kept = await createOrder();
    const gone = await createOrder();
    await client.delete(`/api/v1/orders/${gone.id}`);
    const all = await client.get<Order[]>('/api/v1/orders');
    const mine = await client.get<Order[]>(`/api/v1/orders/user/${kept.user_id}`);
    expect(ids(all.body)).toEqual([kept.id]);
    expect(ids(mine.body)).toEqual([kept.id]);
  });

  it('when the order does not exist, then it answers a 404 problem', async () => {
    const { client } = buildTestApp();
    const res = await client.delete<Problem>('/api/v1/orders/nonexistent-id');
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('Order not found');
  });

  it('when the same order is deleted twice, then the second answers 404', async () => {
    const { client, createOrder } = buildTestApp();
    const order = await createOrder();
    const first = await client.delete(`/api/v1/orders/${order.id}`);
    const second = await client.delete(`/api/v1/orders/${order.id}`);
    expect([first.status, second.status]).toEqual([204, 404]);
  });

  it('when an order is deleted, then orders_created_total is unchanged', async () => {
    const { client, createOrder, registry } = buildTestApp();
    const order = await createOrder();
    await client.delete(`/api/v1/orders/${order.id}`);
    expect(await metricValue(registry, 'orders_created_total')).toBe(1);
  });
});
