import { describeServiceContract } from '@microservices/service-kit/testing';
import { vi } from 'vitest';
import { MemoryUserStore } from './store/memory-user-store.js';
import { buildTestApp } from './test-app.js';

describeServiceContract({
  service: 'user-service',
  version: '1.2.3',
  build: (overrides) => buildTestApp(overrides),
  buildWithStoreDown: (failure) => {
    const store = new MemoryUserStore();
    vi.spyOn(store, 'check').mockRejectedValue(failure);
    return buildTestApp({ store });
  },
  documentedStatuses: [
    [
      'post',
      '/api/v1/users',
      ['201', '400', '401', '403', '408', '409', '413', '415', '422', '429', '431', '500', '503', '507'],
    ],
    ['get', '/api/v1/users', ['200', '400', '401', '403', '408', '429', '431', '500', '503']],
    [
      'get',
      '/api/v1/users/{user_id}',
      ['200', '400', '401', '403', '404', '408', '429', '431', '500', '503'],
    ],
    [
      'put',
      '/api/v1/users/{user_id}',
      ['200', '400', '401', '403', '404', '408', '409', '413', '415', '429', '431', '500', '503', '507'],
    ],
    [
      'delete',
      '/api/v1/users/{user_id}',
      ['204', '400', '401', '403', '404', '408', '429', '431', '500', '503'],
    ],
    ['get', '/health/ready', ['200', '503']],
    ['get', '/health', ['200', '503']],
  ],
  operations: [
    'post /api/v1/users',
    'get /api/v1/users',
    'get /api/v1/users/{user_id}',
    'put /api/v1/users/{user_id}',
    'delete /api/v1/users/{user_id}',
  ],
  operationIds: ['createUser', 'deleteUser', 'getUser', 'listUsers', 'updateUser'],
  apiList: '/api/v1/users',
  apiMissing: '/api/v1/users/missing',
  methodNotAllowed: { method: 'DELETE', path: '/api/v1/users', allow: 'GET, HEAD, POST' },
});
