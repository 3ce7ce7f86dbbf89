import { fromCents, totalCents } from './money.js';
import type { CreateOrder, Order } from './order.js';

/**
 * The order a valid create request makes: a fresh id, the total from its items (exact to the cent), status
 * pending, created and updated now. Whether the user exists is not the order's business: the caller checks.
 */
export function newOrder(request: CreateOrder, { id, now }: { id: string; now: Date }): Order {
  const timestamp = now.toISOString();
  return {
    id,
    user_id: request.user_id,
    items: request.items,
    shipping_address: request.shipping_address,
    total_amount: fromCents(totalCents(request.items)),
    status: 'pending',
    created_at: timestamp,
    updated_at: timestamp,
  };
}
