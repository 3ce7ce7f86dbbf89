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
import { CreateOrderSchema, OrderSchema, UpdateOrderSchema } from '../../domain/order.js';

const tags = ['Orders'];
const OrderIdParam = z.object({
  order_id: plainString()
    .min(1)
    .openapi({ param: { name: 'order_id', in: 'path' }, example: '9b2f6c1e-0d4a' }),
});
const UserIdParam = z.object({
  user_id: plainString()
    .min(1)
    .openapi({ param: { name: 'user_id', in: 'path' }, example: '3f0c2d3e-5a4b' }),
});
const orderNotFound = problemResponse('not-found', 'No order with this id');
const pageQuery = PaginationQuerySchema.strict();

export const createOrder = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createOrder',
  tags,
  summary: 'Create an order for an existing user (validated against user-service)',
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: jsonContent(CreateOrderSchema) },
  },
  responses: {
    201: {
      description:
        'Created, status pending (or the replayed original response for a repeated Idempotency-Key)',
      content: jsonContent(OrderSchema),
    },
    404: problemResponse('not-found', 'User not found: user-service says the user does not exist'),
    422: problemResponse('idempotency-key-reused', 'Idempotency-Key reused with a different body'),
    507: storeFullResponse,
    503: problemResponse(
      'service-unavailable',
      'user-service could not answer, or the database is unavailable; see Retry-After',
    ),
    ...bodyProblemResponses,
  },
});

export const listOrders = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listOrders',
  tags,
  summary: 'List orders, oldest first, optionally for one user',
  request: {
    query: pageQuery.extend({
      user_id: plainString()
        .min(1)
        .optional()
        .openapi({ param: { name: 'user_id', in: 'query' }, description: 'Only this user’s orders' }),
    }),
  },
  responses: {
    200: pageResponse('A page of orders', jsonContent(z.array(OrderSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
  },
});

export const listUserOrders = createRoute({
  method: 'get',
  path: '/user/{user_id}',
  operationId: 'listUserOrders',
  tags,
  summary: 'List one user’s orders, oldest first',
  request: { params: UserIdParam, query: pageQuery },
  responses: {
    200: pageResponse('A page of the user’s orders (empty if none)', jsonContent(z.array(OrderSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: problemResponse('service-unavailable', 'The database is unavailable'),
  },
});

export const getOrder = createRoute({
  method: 'get',
  path: '/{order_id}',
  operationId: 'getOrder',
  tags,
  summary: 'Get an order',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'The order', content: jsonContent(OrderSchema) },
    404: orderNotFound,
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    ...commonProblemResponses,
  },
});

export const updateOrder = createRoute({
  method: 'put',
  path: '/{order_id}',
  operationId: 'updateOrder',
  tags,
  summary: 'Change the status (allowed moves only) or the shipping address',
  description:
    'Allowed moves: pending→confirmed→shipped→delivered, pending or confirmed→cancelled. Setting the current ' +
    'status again is a no-op. The shipping address can change only while pending or confirmed.',
  request: { params: OrderIdParam, body: { required: true, content: jsonContent(UpdateOrderSchema) } },
  responses: {
    200: { description: 'The updated order', content: jsonContent(OrderSchema) },
    404: orderNotFound,
    409: problemResponse('conflict', 'Status move not allowed, or address change after shipping'),
    507: storeFullResponse,
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    ...bodyProblemResponses,
  },
});

export const deleteOrder = createRoute({
  method: 'delete',
  path: '/{order_id}',
  operationId: 'deleteOrder',
  tags,
  summary: 'Delete an order',
  request: { params: OrderIdParam },
  responses: {
    204: { description: 'Deleted' },
    404: orderNotFound,
    503: problemResponse('service-unavailable', 'The database is unavailable'),
    ...commonProblemResponses,
  },
});
