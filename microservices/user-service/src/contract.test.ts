import { describeServiceContract } from '@microservices/service-kit/testing';
import { buildTestApp } from './test-app.js';

describeServiceContract({
  service: 'user-service',
  version: '1.2.3',
  build: (overrides) => buildTestApp(overrides),
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
