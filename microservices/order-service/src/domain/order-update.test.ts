import { describe, expect, it } from 'vitest';
import type { Order } from './order.js';
import { ORDER_STATUSES, type OrderStatus } from './order-status.js';
import { planOrderUpdate } from './order-update.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

const anOrder = (overrides: Partial<Order> = {}): Order => ({
  id: 'o-1',
  user_id: 'u-1',
  items: [{ product_id: 'p-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
  shipping_address: '1 Old Street',
  total_amount: 999.99,
  status: 'pending',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('planOrderUpdate: status', () => {
  it.each([
    ['pending', 'confirmed'],
    ['confirmed', 'shipped'],
    ['shipped', 'delivered'],
    ['pending', 'cancelled'],
    ['confirmed', 'cancelled'],
  ] as Array<[OrderStatus, OrderStatus]>)(
    'when an order moves %s → %s, then only the status and updated_at change',
    (from, to) => {
      expect(planOrderUpdate(anOrder({ status: from }), { status: to }, NOW)).toEqual({
        kind: 'change',
        changes: { status: to, updated_at: NOW.toISOString() },
      });
    },
  );

  it.each(ORDER_STATUSES)('when an order in %s is set to the same status, then nothing changes', (status) => {
    expect(planOrderUpdate(anOrder({ status }), { status }, NOW)).toEqual({ kind: 'unchanged' });
  });

  it('when a move skips a step, then it is refused naming the allowed moves', () => {
    expect(planOrderUpdate(anOrder({ status: 'pending' }), { status: 'shipped' }, NOW)).toEqual({
      kind: 'refused',
      reason: 'invalid-status-transition',
      detail: 'Cannot move an order from pending to shipped (allowed: confirmed, cancelled)',
    });
  });

  it.each(['delivered', 'cancelled'] as OrderStatus[])(
    'when the order is %s, then any move is refused as final',
    (status) => {
      const plan = planOrderUpdate(anOrder({ status }), { status: 'pending' }, NOW);
      expect(plan).toMatchObject({ kind: 'refused', reason: 'invalid-status-transition' });
      expect(plan.kind === 'refused' && plan.detail).toContain('it is final');
    },
  );

  it('when a move goes backwards, then it is refused', () => {
    const plan = planOrderUpdate(anOrder({ status: 'shipped' }), { status: 'confirmed' }, NOW);
    expect(plan).toMatchObject({ kind: 'refused', reason: 'invalid-status-transition' });
  });

  it('when a move is refused and the address would change too, then the status refusal wins', () => {
    const plan = planOrderUpdate(
      anOrder({ status: 'delivered' }),
      { status: 'pending', shipping_address: '2 New Road' },
      NOW,
    );
    expect(plan).toMatchObject({ kind: 'refused', reason: 'invalid-status-transition' });
  });
});

describe('planOrderUpdate: shipping address', () => {
  it.each(['pending', 'confirmed'] as OrderStatus[])(
    'when the order is %s and a new address is given, then only the address and updated_at change',
    (status) => {
      expect(planOrderUpdate(anOrder({ status }), { shipping_address: '2 New Road' }, NOW)).toEqual({
        kind: 'change',
        changes: { shipping_address: '2 New Road', updated_at: NOW.toISOString() },
      });
    },
  );

  it.each(['shipped', 'delivered', 'cancelled'] as OrderStatus[])(
    'when the order is %s and a new address is given, then it is refused as locked',
    (status) => {
      expect(planOrderUpdate(anOrder({ status }), { shipping_address: '2 New Road' }, NOW)).toEqual({
        kind: 'refused',
        reason: 'address-locked',
        detail: `The shipping address cannot change once an order is ${status}`,
      });
    },
  );

  it('when the order is shipped and the same address is sent again, then nothing changes', () => {
    const order = anOrder({ status: 'shipped' });
    expect(planOrderUpdate(order, { shipping_address: order.shipping_address }, NOW)).toEqual({
      kind: 'unchanged',
    });
  });

  it('when a pending order is confirmed and readdressed at once, then both change', () => {
    const plan = planOrderUpdate(
      anOrder({ status: 'pending' }),
      { status: 'confirmed', shipping_address: '2 New Road' },
      NOW,
    );
    expect(plan).toEqual({
      kind: 'change',
      changes: { status: 'confirmed', shipping_address: '2 New Road', updated_at: NOW.toISOString() },
    });
  });

  it('when a confirmed order ships with a new address, then the address is judged by the current status', () => {
    // The parcel has not left yet while the order is confirmed: the address may change in the same update.
    const plan = planOrderUpdate(
      anOrder({ status: 'confirmed' }),
      { status: 'shipped', shipping_address: '2 New Road' },
      NOW,
    );
    expect(plan).toMatchObject({
      kind: 'change',
      changes: { status: 'shipped', shipping_address: '2 New Road' },
    });
  });
});

describe('planOrderUpdate: empty update', () => {
  it('when the update names no field, then nothing changes', () => {
    expect(planOrderUpdate(anOrder(), {}, NOW)).toEqual({ kind: 'unchanged' });
  });

  it('when an update is planned, then the order itself is not mutated', () => {
    const order = anOrder();
    const before = structuredClone(order);
    planOrderUpdate(order, { status: 'confirmed', shipping_address: '2 New Road' }, NOW);
    expect(order).toEqual(before);
  });
});
