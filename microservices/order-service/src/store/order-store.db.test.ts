import { idempotencyRequest } from '@microservices/service-kit';
import { describe, expect, it } from 'vitest';
import type { Order } from '../domain/order.js';
import type { OrderStore } from './order-store.js';
import { STORES } from './store-fixtures.js';

/** Creates without idempotency and unwraps the stored order. */
async function createOrder(store: OrderStore, o: Order): Promise<Order> {
  const result = await store.create(o);
  if (result.outcome !== 'created') throw new Error(`expected a create, got ${result.outcome}`);
  return result.value;
}

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

async function storeWithIn(makeStore: () => Promise<OrderStore>, orders: Order[]) {
  const store = await makeStore();
  for (const o of orders) await createOrder(store, o);
  return store;
}

/** The page a list request gets: the store's rows cut to `limit`, as the reply does, without their positions. */
const pageOf = async (
  store: OrderStore,
  query: { skip: number; limit: number; userId?: string | undefined },
) =>
  (await store.list({ ...query, maxBytes: Number.MAX_SAFE_INTEGER }))
    .slice(0, query.limit)
    .map((row) => row.value);

const ids = (orders: readonly Order[]) => orders.map((o) => o.id);
const LATER = '2026-01-02T00:00:00.000Z';

describe.each(STORES)('%s order store', (_name, makeStore) => {
  const storeWith = (...orders: Order[]) => storeWithIn(makeStore, orders);

  describe('OrderStore.create / get', () => {
    it('when an order is created, then get answers an equal order', async () => {
      const store = await storeWith(order('a'));
      expect(await store.get('a')).toEqual(order('a'));
    });

    it('when the id is unknown, then get answers null', async () => {
      const store = await storeWith(order('a'));
      expect(await store.get('nonexistent-id')).toBeNull();
    });

    it('when asked for the size of an order, then it is a close lower bound of its JSON, and null for an unknown id', async () => {
      const store = await storeWith(order('a', { shipping_address: '\u0001'.repeat(500) }));
      const json = Buffer.byteLength(JSON.stringify(await store.get('a')));
      const size = (await store.jsonBytes('a')) as number;
      expect(size).toBeLessThanOrEqual(json);
      expect(size).toBeGreaterThan(json * 0.9);
      expect(await store.jsonBytes('nonexistent-id')).toBeNull();
    });
  });

  describe('OrderStore.list', () => {
    it('when listing, then orders come oldest (first created) first', async () => {
      const store = await storeWith(order('c'), order('a'), order('b'));
      expect(ids(await pageOf(store, { skip: 0, limit: 10 }))).toEqual(['c', 'a', 'b']);
    });

    it('when an order is updated, then its place in the list does not change', async () => {
      const store = await storeWith(order('a'), order('b'), order('c'));
      await store.update('a', 'pending', { status: 'confirmed', updated_at: LATER });
      expect(ids(await pageOf(store, { skip: 0, limit: 10 }))).toEqual(['a', 'b', 'c']);
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
      expect(ids(await pageOf(store, { skip, limit }))).toEqual(expected);
    });

    it('when more orders follow the page, then one row more than the limit comes back, positions ascending', async () => {
      const store = await storeWith(order('a'), order('b'), order('c'));
      const rows = await store.list({ skip: 0, limit: 2, maxBytes: 1_048_576 });
      expect(rows.map((r) => r.value.id)).toEqual(['a', 'b', 'c']);
      const positions = rows.map((r) => r.position);
      expect([...positions].sort((x, y) => x - y)).toEqual(positions);
      expect(new Set(positions).size).toBe(3);
    });

    it('when resuming after a position, then pages chain without gaps or repeats, whatever is deleted in between', async () => {
      const store = await storeWith(order('a'), order('b'), order('c'), order('d'), order('e'));
      const first = await store.list({ skip: 0, limit: 2, maxBytes: 1_048_576 });
      await store.delete('b');
      await store.delete('c');
      await createOrder(store, order('f'));
      const after = first[1]?.position;
      const second = await store.list({ skip: 0, limit: 2, after, maxBytes: 1_048_576 });
      expect(second.map((r) => r.value.id)).toEqual(['d', 'e', 'f']);
      const third = await store.list({
        skip: 0,
        limit: 10,
        after: second[1]?.position,
        maxBytes: 1_048_576,
        userId: 'alice',
      });
      expect(third.map((r) => r.value.id)).toEqual(['f']);
    });

    it('when orders are large, then the rows stop once those taken could fill maxBytes, never the whole limit', async () => {
      const big = (id: string) =>
        order(id, {
          items: Array.from({ length: 100 }, (_, i) => ({
            product_id: `p${i}`.padEnd(128, 'x'),
            product_name: 'n'.repeat(500),
            quantity: 1,
            price: 1,
          })),
          total_amount: 100,
        });
      const store = await storeWith(...Array.from({ length: 20 }, (_, i) => big(`big-${i}`)));
      // Each order's JSON is about 71 KB: 200 KB holds two; the store must give those and at least one
      // more (so the reply knows there is more), and stops well before the limit.
      const rows = await store.list({ skip: 0, limit: 1_000, maxBytes: 200_000 });
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(rows.length).toBeLessThanOrEqual(4);
      const one = await store.list({ skip: 0, limit: 1_000, maxBytes: 1 });
      expect(one.map((r) => r.value.id)).toEqual(['big-0']);
    });

    it('when userId is given, then only that user’s orders are listed, oldest first', async () => {
      const store = await storeWith(
        order('a1', { user_id: 'alice' }),
        order('b1', { user_id: 'bob' }),
        order('a2', { user_id: 'alice' }),
        order('b2', { user_id: 'bob' }),
      );
      expect(ids(await pageOf(store, { skip: 0, limit: 10, userId: 'bob' }))).toEqual(['b1', 'b2']);
    });

    it('when userId, skip and limit are given, then paging counts only that user’s orders', async () => {
      const store = await storeWith(
        order('a1', { user_id: 'alice' }),
        order('b1', { user_id: 'bob' }),
        order('a2', { user_id: 'alice' }),
        order('a3', { user_id: 'alice' }),
      );
      expect(ids(await pageOf(store, { skip: 1, limit: 1, userId: 'alice' }))).toEqual(['a2']);
    });

    it('when the user has no orders, then the list is empty', async () => {
      const store = await storeWith(order('a'));
      expect(await pageOf(store, { skip: 0, limit: 10, userId: 'nobody' })).toEqual([]);
    });

    it('when userId is undefined, then every order is listed', async () => {
      const store = await storeWith(order('a1', { user_id: 'alice' }), order('b1', { user_id: 'bob' }));
      expect(ids(await pageOf(store, { skip: 0, limit: 10, userId: undefined }))).toEqual(['a1', 'b1']);
    });
  });

  describe('OrderStore.update', () => {
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
      const store = await makeStore();
      expect(await store.update('x', 'pending', { updated_at: LATER })).toEqual({ outcome: 'not_found' });
    });
  });

  describe('OrderStore.delete', () => {
    it('when the order exists, then it answers true and the order is gone from get and both lists', async () => {
      const store = await storeWith(order('a'), order('b'));
      expect(await store.delete('a')).toBe(true);
      expect(await store.get('a')).toBeNull();
      expect(ids(await pageOf(store, { skip: 0, limit: 10 }))).toEqual(['b']);
      expect(ids(await pageOf(store, { skip: 0, limit: 10, userId: 'alice' }))).toEqual(['b']);
    });

    it('when the order does not exist, then it answers false', async () => {
      const store = await makeStore();
      expect(await store.delete('nonexistent-id')).toBe(false);
    });

    it('when a user’s last order is deleted and a new one created, then the user list has only the new one', async () => {
      const store = await storeWith(order('a'));
      await store.delete('a');
      await createOrder(store, order('b'));
      expect(ids(await pageOf(store, { skip: 0, limit: 10, userId: 'alice' }))).toEqual(['b']);
    });

    it('when an update targets a deleted order, then it answers not_found', async () => {
      const store = await storeWith(order('a'));
      await store.delete('a');
      expect((await store.update('a', 'pending', { updated_at: LATER })).outcome).toBe('not_found');
    });
  });

  describe('OrderStore copies', () => {
    it('when the object passed to create is mutated afterwards, then the stored order is unchanged', async () => {
      const input = order('a');
      const store = await storeWith(input);
      input.status = 'delivered';
      (input.items[0] as { quantity: number }).quantity = 99;
      expect(await store.get('a')).toEqual(order('a'));
    });

    it('when the order returned by create is mutated, then the stored order is unchanged', async () => {
      const store = await makeStore();
      const created = await createOrder(store, order('a'));
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
      const [listed] = await pageOf(store, { skip: 0, limit: 10 });
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

  describe('OrderStore.check / close', () => {
    it('when checked or closed, then it resolves', async () => {
      const store = await makeStore();
      await expect(store.check()).resolves.toBeUndefined();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });

  describe('OrderStore idempotency and concurrency', () => {
    const body = { user_id: 'alice', items: [{ product_id: 'p1' }] };

    it('when 50 duplicates of one key arrive at once, then exactly one order is created', async () => {
      const store = await makeStore();
      const request = idempotencyRequest('order-key', body);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.create(order(`dup-${i}`), request)),
      );
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(49);
      expect(await pageOf(store, { skip: 0, limit: 100 })).toHaveLength(1);
    });

    it('when a key is reused with another body, then it is key_reused and nothing is stored', async () => {
      const store = await makeStore();
      await store.create(order('first'), idempotencyRequest('k', body));
      const result = await store.create(order('second'), idempotencyRequest('k', { other: true }));
      expect(result).toEqual({ outcome: 'key_reused' });
      expect(await store.get('second')).toBeNull();
    });

    it('when a key is looked up, then it returns the original order', async () => {
      const store = await makeStore();
      await store.create(order('first'), idempotencyRequest('k2', body));
      expect((await store.findIdempotencyKey('k2'))?.value).toEqual(order('first'));
      expect(await store.findIdempotencyKey('unknown')).toBeNull();
    });

    it('when two moves from the same status race, then exactly one wins', async () => {
      const store = await storeWith(order('a'));
      const results = await Promise.all([
        store.update('a', 'pending', { status: 'confirmed', updated_at: LATER }),
        store.update('a', 'pending', { status: 'cancelled', updated_at: LATER }),
      ]);
      expect(results.map((r) => r.outcome).sort()).toEqual(['status_changed', 'updated']);
    });

    it('when items carry cents and several lines, then they round-trip exactly and in order', async () => {
      const items = [
        { product_id: 'p1', product_name: 'Pen', quantity: 3, price: 0.1 },
        { product_id: 'p2', product_name: 'Book', quantity: 2, price: 10.99 },
        { product_id: 'p3', product_name: 'Free', quantity: 1, price: 0 },
      ];
      const store = await storeWith(order('m', { items, total_amount: 22.28 }));
      const stored = await store.get('m');
      expect(stored?.items).toEqual(items);
      expect(stored?.total_amount).toBe(22.28);
    });
  });
});
