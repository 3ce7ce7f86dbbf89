import { createRoute, z } from '@hono/zod-openapi';
import {
  authProblemResponses,
  bodyProblemResponses,
  commonProblemResponses,
  IdempotencyHeaderSchema,
  jsonContent,
  PaginationQuerySchema,
  pageResponse,
  plainString,
  problemResponse,
  requires,
  storeFullResponse,
} from '@microservices/service-kit';
import { CreateUserSchema, UpdateUserSchema, UserSchema } from '../../domain/user.js';

const tags = ['Users'];
const UserIdParam = z.object({
  user_id: plainString()
    .min(1)
    .openapi({ param: { name: 'user_id', in: 'path' }, example: '3f0c2d3e-5a4b' }),
});
const databaseUnavailable = problemResponse(
  'service-unavailable',
  'The database or the identity provider is unavailable',
);
const emailConflict = problemResponse('conflict', 'The email is already used by another user');

export const createUser = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createUser',
  tags,
  ...requires('users:write', { own: false }),
  description: 'Needs `users:write`.',
  summary: 'Create a user',
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: jsonContent(CreateUserSchema) },
  },
  responses: {
    ...authProblemResponses,
    201: {
      description: 'Created (or the replayed original response for a repeated Idempotency-Key)',
      content: jsonContent(UserSchema),
    },
    409: emailConflict,
    422: problemResponse('idempotency-key-reused', 'Idempotency-Key reused with a different body'),
    503: databaseUnavailable,
    507: storeFullResponse,
    ...bodyProblemResponses,
  },
});

export const listUsers = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listUsers',
  tags,
  ...requires('users:read', { own: true }),
  description: 'Needs `users:read`; with only `users:read:own`, the page holds the token’s own user alone.',
  summary: 'List users, oldest first',
  request: { query: PaginationQuerySchema.strict() },
  responses: {
    ...authProblemResponses,
    200: pageResponse('A page of users', jsonContent(z.array(UserSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: databaseUnavailable,
  },
});

export const getUser = createRoute({
  method: 'get',
  path: '/{user_id}',
  operationId: 'getUser',
  tags,
  ...requires('users:read', { own: true }),
  description:
    'Needs `users:read`, or `users:read:own` for the token’s own user (another user’s is a `403 not-owner`).',
  summary: 'Get a user',
  request: { params: UserIdParam },
  responses: {
    ...authProblemResponses,
    200: { description: 'The user', content: jsonContent(UserSchema) },
    404: problemResponse('not-found', 'No user with this id'),
    503: databaseUnavailable,
    ...commonProblemResponses,
  },
});

export const updateUser = createRoute({
  method: 'put',
  path: '/{user_id}',
  operationId: 'updateUser',
  tags,
  ...requires('users:write', { own: true }),
  description: 'Needs `users:write`, or `users:write:own` for the token’s own user.',
  summary: 'Update some or all of a user’s fields',
  request: { params: UserIdParam, body: { required: true, content: jsonContent(UpdateUserSchema) } },
  responses: {
    ...authProblemResponses,
    200: { description: 'The updated user', content: jsonContent(UserSchema) },
    404: problemResponse('not-found', 'No user with this id'),
    409: emailConflict,
    503: databaseUnavailable,
    507: storeFullResponse,
    ...bodyProblemResponses,
  },
});

export const deleteUser = createRoute({
  method: 'delete',
  path: '/{user_id}',
  operationId: 'deleteUser',
  tags,
  ...requires('users:write', { own: true }),
  description: 'Needs `users:write`, or `users:write:own` for the token’s own user.',
  summary: 'Delete a user',
  request: { params: UserIdParam },
  responses: {
    ...authProblemResponses,
    204: { description: 'Deleted' },
    404: problemResponse('not-found', 'No user with this id'),
    503: databaseUnavailable,
    ...commonProblemResponses,
  },
});
