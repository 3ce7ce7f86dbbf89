import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.js';
import { MemoryOrderStore } from './memory-order-store.js';

const order = (id: string, overrides: Partial<Order> = {}): Order => ({
  id,
  user_id: 'alice',
  items: [{ product_id: 'p1', product_name: 'Laptop', quantity: 1, price: 10 }],
  shipping_address: '1 Road',
  total_amount: 10,
  status: 'pending',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

async function storeWith(...orders: Order[]) {
  const store = new MemoryOrderStore();
  for (const o of orders) await store.create(o);
  return store;
}

const ids = (orders: readonly Order[]) => orders.map((o) => o.id);
const LATER = '2026-01-02T00:00:00.000Z';

describe('MemoryOrderStore.create / get', () => {
  it('when an order is created, then get answers an equal order', async () => {
    const store = await storeWith(order('a'));
    expect(await store.get('a')).toEqual(order('a'));
  });

  it('when the id is unknown, then get answers null', async () => {
    const store = await storeWith(order('a'));
    expect(await store.get('nonexistent-id')).toBeNull();
  });
});

describe('MemoryOrderStore.list', () => {
  it('when listing, then orders come oldest (first created) first', async () => {
    const store = await storeWith(order('c'), order('a'), order('b'));
    expect(ids(await store.list({ skip: 0, limit: 10 }))).toEqual(['c', 'a', 'b']);
  });

  it('when an order is updated, then its place in the list does not change', async () => {
    const store = await storeWith(order('a'), order('b'), order('c'));
    await store.update('a', 'pending', { status: 'confirmed', updated_at: LATER });
    expect(ids(await store.list({ skip: 0, limit: 10 }))).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [0, 2, ['a', 'b']],
    [1, 2, ['b', 'c']],
    [3, 10, ['d']],
    [4, 10, []],
    [10, 1, []],
    [0, 1_000, ['a', 'b', 'c', 'd']],
  ])('when skip is %d and limit %d, then the page is %j', async (skip, limit, expected) => {
    const store = await storeWith(order('a'), order('b'), order('c'), order('d'));
    expect(ids(await store.list({ skip, limit }))).toEqual(expected);
  });

  it('when userId is given, then only that user’s orders are listed, oldest first', async () => {
    const store = await storeWith(
      order('a1', { user_id: 'alice' }),
      order('b1', { user_id: 'bob' }),
      order('a2', { user_id: 'alice' }),
      order('b2', { user_id: 'bob' }),
    );
    expect(ids(await store.list({ skip: 0, limit: 10, userId: 'bob' }))).toEqual(['b1', 'b2']);
  });

  it('when userId, skip and limit are given, then paging counts only that user’s orders', async () => {
    const store = await storeWith(
      order('a1', { user_id: 'alice' }),
      order('b1', { user_id: 'bob' }),
      order('a2', { user_id: 'alice' }),
      order('a3', { user_id: 'alice' }),
    );
    expect(ids(await store.list({ skip: 1, limit: 1, userId: 'alice' }))).toEqual(['a2']);
  });

  it('when the user has no orders, then the list is empty', async () => {
    const store = await storeWith(order('a'));
    expect(await store.list({ skip: 0, limit: 10, userId: 'nobody' })).toEqual([]);
  });

  it('when userId is undefined, then every order is listed', async () => {
    const store = await storeWith(order('a1', { user_id: 'alice' }), order('b1', { user_id: 'bob' }));
    expect(ids(await store.list({ skip: 0, limit: 10, userId: undefined }))).toEqual(['a1', 'b1']);
  });
});

describe('MemoryOrderStore.update', () => {
  it('when the expected status matches, then the changes apply and the new order is answered', async () => {
    const store = await storeWith(order('a'));
    const result = await store.update('a', 'pending', { status: 'confirmed', updated_at: LATER });
    const expected = order('a', { status: 'confirmed', updated_at: LATER });
    expect(result).toEqual({ outcome: 'updated', order: expected });
    expect(await store.get('a')).toEqual(expected);
  });

  it('when only the address changes, then the status is kept', async () => {
    const store = await storeWith(order('a', { status: 'confirmed' }));
    await store.update('a', 'confirmed', { shipping_address: '2 Street', updated_at: LATER });
    expect(await store.get('a')).toMatchObject({ status: 'confirmed', shipping_address: '2 Street' });
  });

  it('when the expected status is stale, then it answers status_changed with the current order and changes nothing', async () => {
    const store = await storeWith(order('a'));
    await store.update('a', 'pending', { status: 'cancelled', updated_at: LATER });
    const result = await store.update('a', 'pending', {
      status: 'confirmed',
      updated_at: '2026-01-03T00:00:00.000Z',
    });
    const current = order('a', { status: 'cancelled', updated_at: LATER });
    expect(result).toEqual({ outcome: 'status_changed', current });
    expect(await store.get('a')).toEqual(current);
  });

  it('when two updates race from the same status, then only the first succeeds', async () => {
    const store = await storeWith(order('a'));
    const [first, second] = await Promise.all([
      store.update('a', 'pending', { status: 'confirmed', updated_at: LATER }),
      store.update('a', 'pending', { status: 'cancelled', updated_at: LATER }),
    ]);
    expect([first.outcome, second.outcome]).toEqual(['updated', 'status_changed']);
    expect((await store.get('a'))?.status).toBe('confirmed');
  });

  it('when the order does not exist, then it answers not_found', async () => {
    const store = new MemoryOrderStore();
    expect(await store.update('x', 'pending', { updated_at: LATER })).toEqual({ outcome: 'not_found' });
  });
});

describe('MemoryOrderStore.delete', () => {
  it('when the order exists, then it answers true and the order is gone from get and both lists', async () => {
    const store = await storeWith(order('a'), order('b'));
    expect(await store.delete('a')).toBe(true);
    expect(await store.get('a')).toBeNull();
    expect(ids(await store.list({ skip: 0, limit: 10 }))).toEqual(['b']);
    expect(ids(await store.list({ skip: 0, limit: 10, userId: 'alice' }))).toEqual(['b']);
  });

  it('when the order does not exist, then it answers false', async () => {
    const store = new MemoryOrderStore();
    expect(await store.delete('nonexistent-id')).toBe(false);
  });

  it('when a user’s last order is deleted and a new one created, then the user list has only the new one', async () => {
    const store = await storeWith(order('a'));
    await store.delete('a');
    await store.create(order('b'));
    expect(ids(await store.list({ skip: 0, limit: 10, userId: 'alice' }))).toEqual(['b']);
  });

  it('when an update targets a deleted order, then it answers not_found', async () => {
    const store = await storeWith(order('a'));
    await store.delete('a');
    expect((await store.update('a', 'pending', { updated_at: LATER })).outcome).toBe('not_found');
  });
});

describe('MemoryOrderStore copies', () => {
  it('when the object passed to create is mutated afterwards, then the stored order is unchanged', async () => {
    const input = order('a');
    const store = await storeWith(input);
    input.status = 'delivered';
    (input.items[0] as { quantity: number }).quantity = 99;
    expect(await store.get('a')).toEqual(order('a'));
  });

  it('when the order returned by create is mutated, then the stored order is unchanged', async () => {
    const store = new MemoryOrderStore();
    const created = await store.create(order('a'));
    created.shipping_address = 'elsewhere';
    expect((await store.get('a'))?.shipping_address).toBe('1 Road');
  });

  it('when an order returned by get is mutated (items included), then the stored order is unchanged', async () => {
    const store = await storeWith(order('a'));
    const fetched = await store.get('a');
    if (!fetched) throw new Error('missing');
    fetched.status = 'cancelled';
    fetched.items.push({ product_id: 'p2', product_name: 'Mouse', quantity: 1, price: 1 });
    (fetched.items[0] as { price: number }).price = 0;
    expect(await store.get('a')).toEqual(order('a'));
  });

  it('when orders returned by list are mutated, then the stored orders are unchanged', async () => {
    const store = await storeWith(order('a'));
    const [listed] = await store.list({ skip: 0, limit: 10 });
    if (!listed) throw new Error('missing');
    listed.total_amount = 0;
    (listed.items[0] as { product_name: string }).product_name = 'changed';
    expect(await store.get('a')).toEqual(order('a'));
  });

  it('when the order returned by update is mutated, then the stored order is unchanged', async () => {
    const store = await storeWith(order('a'));
    const result = await store.update('a', 'pending', { status: 'confirmed', updated_at: LATER });
    if (result.outcome !== 'updated') throw new Error('not updated');
    (result.order.items[0] as { quantity: number }).quantity = 42;
    expect((await store.get('a'))?.items[0]?.quantity).toBe(1);
  });

  it('when the current order answered on status_changed is mutated, then the stored order is unchanged', async () => {
    const store = await storeWith(order('a', { status: 'shipped' }));
    const result = await store.update('a', 'pending', { updated_at: LATER });
    if (result.outcome !== 'status_changed') throw new Error('expected status_changed');
    result.current.status = 'pending';
    expect((await store.get('a'))?.status).toBe('shipped');
  });
});

describe('MemoryOrderStore.check / close', () => {
  it('when checked or closed, then it resolves', async () => {
    const store = new MemoryOrderStore();
    await expect(store.check()).resolves.toBeUndefined();
    await expect(store.close()).resolves.toBeUndefined();
  });
});
