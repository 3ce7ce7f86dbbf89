import { Counter, type Registry } from 'prom-client';

export interface OrderMetrics {
  ordersCreated: Counter<'status'>;
  statusChanges: Counter<'from' | 'to'>;
}

export function createOrderMetrics(registry: Registry): OrderMetrics {
  return {
    ordersCreated: new Counter({
      name: 'orders_created_total',
      help: 'Orders created, by the status they were created in.',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    statusChanges: new Counter({
      name: 'order_status_changes_total',
      help: 'Order status moves, by from and to status.',
      labelNames: ['from', 'to'] as const,
      registers: [registry],
    }),
  };
}
