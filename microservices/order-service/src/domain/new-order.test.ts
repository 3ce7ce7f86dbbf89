import { describe, expect, it } from 'vitest';
import { newOrder } from './new-order.js';
import type { CreateOrder } from './order.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

const aRequest = (overrides: Partial<CreateOrder> = {}): CreateOrder => ({
  user_id: 'u-1',
  items: [
    { product_id: 'p-1', product_name: 'Pen', quantity: 3, price: 0.1 },
    { product_id: 'p-2', product_name: 'Pad', quantity: 2, price: 10.99 },
  ],
  shipping_address: '1 Old Street',
  ...overrides,
});

describe('newOrder', () => {
  it('when a request is valid, then the order is pending with the given id, user, items and address', () => {
    const request = aRequest();
    expect(newOrder(request, { id: 'o-1', now: NOW })).toEqual({
      id: 'o-1',
      user_id: 'u-1',
      items: request.items,
      shipping_address: '1 Old Street',
      total_amount: 22.28,
      status: 'pending',
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
    });
  });

  it('when the items are priced in fractions a float sum would drift on, then the total is exact to the cent', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({
      product_id: `p-${i}`,
      product_name: 'Screw',
      quantity: 1,
      price: 0.1,
    }));
    expect(newOrder(aRequest({ items }), { id: 'o-1', now: NOW }).total_amount).toBe(10);
  });

  it('when an order is made, then created_at and updated_at are the same instant', () => {
    const order = newOrder(aRequest(), { id: 'o-1', now: NOW });
    expect(order.created_at).toBe(order.updated_at);
  });

  it('when an item price has more than two decimals, then it throws a RangeError (the schema refuses it first)', () => {
    const items = [{ product_id: 'p-1', product_name: 'Odd', quantity: 1, price: 1.005 }];
    expect(() => newOrder(aRequest({ items }), { id: 'o-1', now: NOW })).toThrow(RangeError);
  });
});
