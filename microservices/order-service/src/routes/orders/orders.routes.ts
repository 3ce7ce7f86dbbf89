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
const databaseUnavailable = problemResponse(
  'service-unavailable',
  'The database or the identity provider is unavailable',
);
const OWN_ORDERS_ONLY =
  ' With only the `:own` scope, another user’s order answers 404, as if it did not exist.';

export const createOrder = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createOrder',
  tags,
  ...requires('orders:write', { own: true }),
  description:
    'Needs `orders:write`, or `orders:write:own` to order for the token’s own user (for another user: `403 not-owner`).',
  summary: 'Create an order for an existing user (validated against user-service)',
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: jsonContent(CreateOrderSchema) },
  },
  responses: {
    ...authProblemResponses,
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
      'user-service could not answer, or the database or the identity provider is unavailable; see Retry-After',
    ),
    ...bodyProblemResponses,
  },
});

export const listOrders = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listOrders',
  tags,
  ...requires('orders:read', { own: true }),
  description:
    'Needs `orders:read`; with only `orders:read:own` the page holds the token’s own user’s orders (asking for another `user_id`: `403 not-owner`).',
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
    ...authProblemResponses,
    200: pageResponse('A page of orders', jsonContent(z.array(OrderSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: databaseUnavailable,
  },
});

export const listUserOrders = createRoute({
  method: 'get',
  path: '/user/{user_id}',
  operationId: 'listUserOrders',
  tags,
  ...requires('orders:read', { own: true }),
  description:
    'Needs `orders:read`, or `orders:read:own` for the token’s own user (another user: `403 not-owner`).',
  summary: 'List one user’s orders, oldest first',
  request: { params: UserIdParam, query: pageQuery },
  responses: {
    ...authProblemResponses,
    200: pageResponse('A page of the user’s orders (empty if none)', jsonContent(z.array(OrderSchema))),
    ...commonProblemResponses,
    400: problemResponse(
      'validation-error',
      'Bad skip/limit, unknown query parameter or invalid X-Request-Id',
    ),
    503: databaseUnavailable,
  },
});

export const getOrder = createRoute({
  method: 'get',
  path: '/{order_id}',
  operationId: 'getOrder',
  tags,
  ...requires('orders:read', { own: true }),
  description: `Needs \`orders:read\` or \`orders:read:own\`.${OWN_ORDERS_ONLY}`,
  summary: 'Get an order',
  request: { params: OrderIdParam },
  responses: {
    ...authProblemResponses,
    200: { description: 'The order', content: jsonContent(OrderSchema) },
    404: orderNotFound,
    503: databaseUnavailable,
    ...commonProblemResponses,
  },
});

export const updateOrder = createRoute({
  method: 'put',
  path: '/{order_id}',
  operationId: 'updateOrder',
  tags,
  ...requires('orders:write', { own: true }),
  summary: 'Change the status (allowed moves only) or the shipping address',
  description:
    'Allowed moves: pending→confirmed→shipped→delivered, pending or confirmed→cancelled. Setting the current ' +
    'status again is a no-op. The shipping address can change only while pending or confirmed. Needs ' +
    `\`orders:write\` or \`orders:write:own\`.${OWN_ORDERS_ONLY}`,
  request: { params: OrderIdParam, body: { required: true, content: jsonContent(UpdateOrderSchema) } },
  responses: {
    ...authProblemResponses,
    200: { description: 'The updated order', content: jsonContent(OrderSchema) },
    404: orderNotFound,
    409: problemResponse('conflict', 'Status move not allowed, or address change after shipping'),
    507: storeFullResponse,
    503: databaseUnavailable,
    ...bodyProblemResponses,
  },
});

export const deleteOrder = createRoute({
  method: 'delete',
  path: '/{order_id}',
  operationId: 'deleteOrder',
  tags,
  ...requires('orders:write', { own: true }),
  description: `Needs \`orders:write\` or \`orders:write:own\`.${OWN_ORDERS_ONLY}`,
  summary: 'Delete an order',
  request: { params: OrderIdParam },
  responses: {
    ...authProblemResponses,
    204: { description: 'Deleted' },
    404: orderNotFound,
    503: databaseUnavailable,
    ...commonProblemResponses,
  },
});
