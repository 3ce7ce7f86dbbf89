import type { Order, UpdateOrder } from './order.js';
import { addressEditable, allowedMovesFrom, canMoveTo, type OrderStatus } from './order-status.js';

/** What an update writes: the fields that change, and when. */
export interface OrderChanges {
  status?: OrderStatus;
  shipping_address?: string;
  updated_at: string;
}

/** Why an update may not happen; each reason is a problem type the API documents (409). */
export type UpdateRefusal = 'invalid-status-transition' | 'address-locked';

/** What applying an update to an order means. */
export type UpdatePlan =
  /** The update asks for what the order already is: nothing to write, the order is the answer. */
  | { kind: 'unchanged' }
  | { kind: 'change'; changes: OrderChanges }
  | { kind: 'refused'; reason: UpdateRefusal; detail: string };

/**
 * Plans an update (PUT) of `order`: a status move must be allowed from the current status (setting the
 * current status again is a no-op), and the shipping address may change only before the parcel leaves.
 * `now` becomes `updated_at` only when something changes.
 */
export function planOrderUpdate(order: Order, update: UpdateOrder, now: Date): UpdatePlan {
  const status = update.status ?? order.status;
  if (!canMoveTo(order.status, status)) {
    const allowed = allowedMovesFrom(order.status);
    const hint = allowed.length ? `allowed: ${allowed.join(', ')}` : 'it is final';
    return {
      kind: 'refused',
      reason: 'invalid-status-transition',
      detail: `Cannot move an order from ${order.status} to ${status} (${hint})`,
    };
  }
  const address = update.shipping_address;
  const addressChanges = address !== undefined && address !== order.shipping_address;
  if (addressChanges && !addressEditable(order.status)) {
    return {
      kind: 'refused',
      reason: 'address-locked',
      detail: `The shipping address cannot change once an order is ${order.status}`,
    };
  }
  if (status === order.status && !addressChanges) return { kind: 'unchanged' };
  return {
    kind: 'change',
    changes: {
      ...(status !== order.status ? { status } : {}),
      ...(addressChanges ? { shipping_address: address } : {}),
      updated_at: now.toISOString(),
    },
  };
}
