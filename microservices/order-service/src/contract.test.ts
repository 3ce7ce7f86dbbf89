import { describeServiceContract } from '@microservices/service-kit/testing';
import { vi } from 'vitest';
import { MemoryOrderStore } from './store/memory-order-store.js';
import { buildTestApp } from './test-app.js';

describeServiceContract({
  service: 'order-service',
  version: '1.2.3',
  build: (overrides) => buildTestApp(overrides),
  buildWithStoreDown: (failure) => {
    const store = new MemoryOrderStore();
    vi.spyOn(store, 'check').mockRejectedValue(failure);
    return buildTestApp({ store });
  },
  documentedStatuses: [
    [
      'post',
      '/api/v1/orders',
      ['201', '400', '401', '403', '404', '408', '413', '415', '422', '429', '431', '500', '503', '507'],
    ],
    ['get', '/api/v1/orders', ['200', '400', '401', '403', '408', '429', '431', '500', '503']],
    [
      'get',
      '/api/v1/orders/{order_id}',
      ['200', '400', '401', '403', '404', '408', '429', '431', '500', '503'],
    ],
    [
      'put',
      '/api/v1/orders/{order_id}',
      ['200', '400', '401', '403', '404', '408', '409', '413', '415', '429', '431', '500', '503', '507'],
    ],
    [
      'delete',
      '/api/v1/orders/{order_id}',
      ['204', '400', '401', '403', '404', '408', '429', '431', '500', '503'],
    ],
    ['get', '/api/v1/orders/user/{user_id}', ['200', '400', '401', '403', '408', '429', '431', '500', '503']],
    ['get', '/health/ready', ['200', '503']],
    ['get', '/health', ['200', '503']],
  ],
  operations: [
    'post /api/v1/orders',
    'get /api/v1/orders',
    'get /api/v1/orders/{order_id}',
    'put /api/v1/orders/{order_id}',
    'delete /api/v1/orders/{order_id}',
    'get /api/v1/orders/user/{user_id}',
  ],
  operationIds: ['createOrder', 'deleteOrder', 'getOrder', 'listOrders', 'listUserOrders', 'updateOrder'],
  apiList: '/api/v1/orders',
  apiMissing: '/api/v1/orders/missing',
  methodNotAllowed: { method: 'PATCH', path: '/api/v1/orders/some-id', allow: 'DELETE, GET, HEAD, PUT' },
});
