import { createRoute, z } from '@hono/zod-openapi';
import {
  bodyProblemResponses,
  commonProblemResponses,
  IdempotencyHeaderSchema,
  jsonContent,
  PaginationQuerySchema,
  pageResponse,
  plainString,
  problemResponse,
  storeFullResponse,
} from '@microservices/service-kit';
import { CreateUserSchema, UpdateUserSchema, UserSchema } from '../../domain/user.js';

const tags = ['Users'];
const UserIdParam = z.object({
  user_id: plainString()
    .min(1)
    .openapi({ param: { name: 'user_id', in: 'path' }, example: '3f0c2d3e-5a4b' }),
});
const emailConflict = problemResponse('conflict', 'The email is already used by another user');

export const createUser = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createUser',
  tags,
  summary: 'Create a user',
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: jsonContent(CreateUserSchema) },
  },
  responses: {
    201: {
      description: 'Created (or the replayed original response for a repeated Idempotency-Key)',
      content: jsonContent(UserSchema),
    },
    409: emailConflict,
    422: problemResponse('idempotency-key-reused', 'Idempotency-Key reused with a different body'),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    507: storeFullResponse,
    ...bodyProblemResponses,
  },
});

export const listUsers = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listUsers',
  tags,
  summary: 'List users, oldest first',
  request: { query: PaginationQuerySchema.strict() },
  responses: {
    200: pageResponse('A page of users', jsonContent(z.array(UserSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
  },
});

export const getUser = createRoute({
  method: 'get',
  path: '/{user_id}',
  operationId: 'getUser',
  tags,
  summary: 'Get a user',
  request: { params: UserIdParam },
  responses: {
    200: { description: 'The user', content: jsonContent(UserSchema) },
    404: problemResponse('not-found', 'No user with this id'),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    ...commonProblemResponses,
  },
});

export const updateUser = createRoute({
  method: 'put',
  path: '/{user_id}',
  operationId: 'updateUser',
  tags,
  summary: 'Update some or all of a user’s fields',
  request: { params: UserIdParam, body: { required: true, content: jsonContent(UpdateUserSchema) } },
  responses: {
    200: { description: 'The updated user', content: jsonContent(UserSchema) },
    404: problemResponse('not-found', 'No user with this id'),
    409: emailConflict,
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    507: storeFullResponse,
    ...bodyProblemResponses,
  },
});

export const deleteUser = createRoute({
  method: 'delete',
  path: '/{user_id}',
  operationId: 'deleteUser',
  tags,
  summary: 'Delete a user',
  request: { params: UserIdParam },
  responses: {
    204: { description: 'Deleted' },
    404: problemResponse('not-found', 'No user with this id'),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    ...commonProblemResponses,
  },
});
