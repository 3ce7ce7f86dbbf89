import { describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { MemoryOrderStore } from '../../store/memory-order-store.js';
import type { OrderChanges, UpdateResult } from '../../store/order-store.js';
import { buildTestApp, metricValue } from '../../test-app.js';

type Problem = { status: number; type: string; detail: string; errors?: Array<{ path: string }> };

const CREATED_AT = '2026-01-01T00:00:00.000Z';

/** Shortest allowed path from pending to each status. */
const PATH_TO: Record<OrderStatus, OrderStatus[]> = {
  pending: [],
  confirmed: ['confirmed'],
  shipped: ['confirmed', 'shipped'],
  delivered: ['confirmed', 'shipped', 'delivered'],
  cancelled: ['cancelled'],
};

/** A fresh app with one order already moved (through allowed steps, one second apart) to `status`. */
async function appWithOrderIn(status: OrderStatus) {
  const built = buildTestApp();
  const order = await built.createOrder();
  for (const step of PATH_TO[status]) {
    built.clock.advance(1_000);
    const res = await built.client.put(`/api/v1/orders/${order.id}`, { status: step });
    if (res.status !== 200) throw new Error(`setup move to ${step} answered ${res.status}`);
  }
  const current = await built.store.get(order.id);
  if (!current) throw new Error('setup order vanished');
  return { ...built, order: current, url: `/api/v1/orders/${order.id}` };
}

describe('PUT /api/v1/orders/{order_id}: allowed status moves', () => {
  it.each([
    ['pending', 'confirmed'],
    ['confirmed', 'shipped'],
    ['shipped', 'delivered'],
    ['pending', 'cancelled'],
    ['confirmed', 'cancelled'],
  ] as const)(
    'when moving %s → %s, then it answers 200 with the new status and a fresh updated_at',
    async (from, to) => {
      const { client, clock, url, store, order } = await appWithOrderIn(from);
      clock.advance(60_000);
      const res = await client.put<Order>(url, { status: to });
      expect(res.status).toBe(200);
      const expectedUpdatedAt = clock.now().toISOString();
      expect(res.body).toEqual({ ...order, status: to, updated_at: expectedUpdatedAt });
      expect(res.body.created_at).toBe(CREATED_AT);
      expect(await store.get(order.id)).toEqual(res.body);
    },
  );

  it.each([
    ['pending', 'confirmed'],
    ['shipped', 'delivered'],
    ['confirmed', 'cancelled'],
  ] as const)(
    'when moving %s → %s, then order_status_changes_total counts that move once',
    async (from, to) => {
      const { client, url, registry } = await appWithOrderIn(from);
      const before = await metricValue(registry, 'order_status_changes_total', { from, to });
      await client.put(url, { status: to });
      expect(await metricValue(registry, 'order_status_changes_total', { from, to })).toBe(before + 1);
    },
  );

  it('when an order goes all the way to delivered, then each step is counted under its own labels', async () => {
    const { registry } = await appWithOrderIn('delivered');
    const counts = await Promise.all(
      [
        ['pending', 'confirmed'],
        ['confirmed', 'shipped'],
        ['shipped', 'delivered'],
      ].map(([from = '', to = '']) => metricValue(registry, 'order_status_changes_total', { from, to })),
    );
    expect(counts).toEqual([1, 1, 1]);
    expect(await metricValue(registry, 'order_status_changes_total')).toBe(3);
  });
});

describe('PUT /api/v1/orders/{order_id}: disallowed status moves', () => {
  it.each([
    ['pending', 'shipped'],
    ['pending', 'delivered'],
    ['confirmed', 'pending'],
    ['confirmed', 'delivered'],
    ['shipped', 'pending'],
    ['shipped', 'cancelled'],
    ['delivered', 'cancelled'],
    ['delivered', 'pending'],
    ['cancelled', 'pending'],
    ['cancelled', 'confirmed'],
  ] as const)('when moving %s → %s, then it answers 409 and the order is unchanged', async (from, to) => {
    const { client, clock, url, store, order } = await appWithOrderIn(from);
    clock.advance(60_000);
    const res = await client.put<Problem>(url, { status: to });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 409, type: 'urn:problem-type:invalid-status-transition' });
    expect(res.body.detail).toContain(`from ${from} to ${to}`);
    expect(await store.get(order.id)).toEqual(order);
  });

  it('when a move is refused, then no status change is counted', async () => {
    const { client, url, registry } = await appWithOrderIn('pending');
    await client.put(url, { status: 'delivered' });
    expect(await metricValue(registry, 'order_status_changes_total')).toBe(0);
  });

  it('when a move from pending is refused, then the detail lists the allowed moves', async () => {
    const { client, url } = await appWithOrderIn('pending');
    const res = await client.put<Problem>(url, { status: 'shipped' });
    expect(res.body.detail).toContain('allowed: confirmed, cancelled');
  });

  it('when a move from a final status is refused, then the detail says it is final', async () => {
    const { client, url } = await appWithOrderIn('cancelled');
    const res = await client.put<Problem>(url, { status: 'pending' });
    expect(res.body.detail).toContain('final');
  });
});

describe('PUT /api/v1/orders/{order_id}: no-ops', () => {
  it.each(['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const)(
    'when setting %s again, then it answers 200 and updated_at is unchanged',
    async (status) => {
      const { client, clock, url, order, store, registry } = await appWithOrderIn(status);
      const changesBefore = await metricValue(registry, 'order_status_changes_total');
      clock.advance(60_000);
      const res = await client.put<Order>(url, { status });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(order);
      expect(await store.get(order.id)).toEqual(order);
      expect(await metricValue(registry, 'order_status_changes_total')).toBe(changesBefore);
    },
  );

  it('when the body is empty, then it answers 200 with the order unchanged', async () => {
    const { client, clock, url, order } = await appWithOrderIn('pending');
    clock.advance(60_000);
    const res = await client.put<Order>(url, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });

  it('when the address is set to what it already is after shipping, then it answers 200 unchanged', async () => {
    const { client, clock, url, order } = await appWithOrderIn('shipped');
    clock.advance(60_000);
    const res = await client.put<Order>(url, { shipping_address: order.shipping_address });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(order);
  });
});

describe('PUT /api/v1/orders/{order_id}: shipping address', () => {
  it.each(['pending', 'confirmed'] as const)(
    'when the order is %s, then the address changes and updated_at is refreshed',
    async (status) => {
      const { client, clock, url, order, store } = await appWithOrderIn(status);
      clock.advance(60_000);
      const res = await client.put<Order>(url, { shipping_address: '  9 New Road  ' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        ...order,
        shipping_address: '9 New Road',
        updated_at: clock.now().toISOString(),
      });
      expect(await store.get(order.id)).toEqual(res.body);
    },
  );

  it.each(['shipped', 'delivered', 'cancelled'] as const)(
    'when the order is %s, then changing the address answers 409 and nothing changes',
    async (status) => {
      const { client, url, order, store } = await appWithOrderIn(status);
      const res = await client.put<Problem>(url, { shipping_address: '9 New Road' });
      expect(res.status).toBe(409);
      expect(res.body.type).toBe('urn:problem-type:address-locked');
      expect(await store.get(order.id)).toEqual(order);
    },
  );

  it('when the status and address change together while confirmed, then both change', async () => {
    const { client, url } = await appWithOrderIn('confirmed');
    const res = await client.put<Order>(url, { status: 'shipped', shipping_address: '9 New Road' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'shipped', shipping_address: '9 New Road' });
  });

  it('when the address change is refused, then the status in the same request is not applied', async () => {
    const { client, url, order, store } = await appWithOrderIn('shipped');
    const res = await client.put(url, { status: 'delivered', shipping_address: '9 New Road' });
    expect(res.status).toBe(409);
    expect(await store.get(order.id)).toEqual(order);
  });
});

describe('PUT /api/v1/orders/{order_id}: invalid requests', () => {
  it.each([
    ['an unknown status value', { status: 'lost' }, 'body.status'],
    ['a status in capitals', { status: 'CONFIRMED' }, 'body.status'],
    ['a null status', { status: null }, 'body.status'],
    ['a blank address', { shipping_address: ' ' }, 'body.shipping_address'],
    ['an unknown field', { colour: 'red' }, 'body.colour'],
    ['a field that cannot be changed', { total_amount: 0 }, 'body.total_amount'],
  ])('when the body has %s, then it answers 400 naming the field', async (_label, body, path) => {
    const { client, url, order, store } = await appWithOrderIn('pending');
    const res = await client.put<Problem>(url, body);
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
    expect(await store.get(order.id)).toEqual(order);
  });

  it('when the order does not exist, then it answers a 404 problem', async () => {
    const { client } = buildTestApp();
    const res = await client.put<Problem>('/api/v1/orders/nonexistent-id', { status: 'confirmed' });
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('Order not found');
  });

  it('when the order does not exist and the body is invalid, then it answers 400', async () => {
    const { client } = buildTestApp();
    const res = await client.put('/api/v1/orders/nonexistent-id', { status: 'lost' });
    expect(res.status).toBe(400);
  });
});

/** A store where another writer changes the order's status between the handler's read and its write. */
class RacingStore extends MemoryOrderStore {
  /** @param otherWriterMoves the status another writer sets just before each of the next updates */
  constructor(private readonly otherWriterMoves: OrderStatus[]) {
    super();
  }

  override async update(id: string, expected: OrderStatus, changes: OrderChanges): Promise<UpdateResult> {
    const move = this.otherWriterMoves.shift();
    const current = await this.get(id);
    if (move && current)
      await super.update(id, current.status, { status: move, updated_at: changes.updated_at });
    return super.update(id, expected, changes);
  }
}

describe('PUT /api/v1/orders/{order_id}: concurrent writers', () => {
  it('when another writer cancels first, then a confirm is re-checked against cancelled and answers 409', async () => {
    const store = new RacingStore(['cancelled']);
    const { client, createOrder } = buildTestApp({ store });
    const order = await createOrder();
    const res = await client.put<Problem>(`/api/v1/orders/${order.id}`, { status: 'confirmed' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('from cancelled to confirmed');
    expect((await store.get(order.id))?.status).toBe('cancelled');
  });

  it('when another writer confirms first, then a cancel is re-planned from confirmed and succeeds', async () => {
    const store = new RacingStore(['confirmed']);
    const { client, createOrder, registry } = buildTestApp({ store });
    const order = await createOrder();
    const res = await client.put<Order>(`/api/v1/orders/${order.id}`, { status: 'cancelled' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(
      await metricValue(registry, 'order_status_changes_total', { from: 'confirmed', to: 'cancelled' }),
    ).toBe(1);
  });

  it('when other writers keep winning, then it gives up after three attempts with a 409', async () => {
    const store = new RacingStore(['confirmed', 'pending', 'confirmed', 'pending']);
    const { client, createOrder } = buildTestApp({ store });
    const order = await createOrder();
    const res = await client.put<Problem>(`/api/v1/orders/${order.id}`, { status: 'cancelled' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/concurrently/);
    expect((await store.get(order.id))?.status).toBe('confirmed');
  });

  it('when the order is deleted between read and write, then it answers 404', async () => {
    const store = new MemoryOrderStore();
    const { client, createOrder } = buildTestApp({ store });
    const order = await createOrder();
    const realUpdate = store.update.bind(store);
    store.update = async (id, expected, changes) => {
      await store.delete(id);
      return realUpdate(id, expected, changes);
    };
    const res = await client.put(`/api/v1/orders/${order.id}`, { status: 'confirmed' });
    expect(res.status).toBe(404);
  });
});
