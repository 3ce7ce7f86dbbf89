export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The allowed moves; everything else is a 409. Delivered and cancelled are final. */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

export const canMoveTo = (from: OrderStatus, to: OrderStatus) => from === to || NEXT[from].includes(to);

export const allowedMovesFrom = (from: OrderStatus): readonly OrderStatus[] => NEXT[from];

/** Where the parcel has not left yet, the shipping address may still change. */
export const addressEditable = (status: OrderStatus) => status === 'pending' || status === 'confirmed';
