import { describeServiceContract } from '@microservices/service-kit/testing';
import { buildTestApp } from './test-app.js';

describeServiceContract({
  service: 'order-service',
  version: '1.2.3',
  build: (overrides) => buildTestApp(overrides),
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
