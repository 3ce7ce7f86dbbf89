import {
  type AppContext,
  accessOf,
  conflict,
  ensureReaches,
  type AppRouteHandler as Handler,
  IDEMPOTENT_REPLAY_HEADERS,
  idempotencyKeyReused,
  idempotencyRequest,
  jsonBytes,
  notFound,
  type ResourceHandlerDeps,
  reaches,
  reply,
  replyJson,
  reserveAnswerOrRefuse,
  unsentAnswersSpent,
} from '@microservices/service-kit';
import { newOrder } from '../../domain/new-order.js';
import type { Order } from '../../domain/order.js';
import { planOrderUpdate } from '../../domain/order-update.js';
import type { OrderMetrics } from '../../metrics.js';
import type { OrderStore } from '../../store/order-store.js';
import type { UserVerifier } from '../../user-client/user-verifier.js';
import type * as routes from './orders.routes.js';

export interface OrderHandlerDeps extends ResourceHandlerDeps<OrderStore, OrderMetrics> {
  users: UserVerifier;
}

const ORDER_NOT_FOUND = 'Order not found';
/** A concurrent writer can win the compare-and-set; planning again a couple of times settles it. */
const MAX_UPDATE_ATTEMPTS = 3;

/** An order the request may see: a token held to its own user finds another user's order missing (404). */
function visible(c: AppContext, order: Order | null): Order | null {
  return order && reaches(accessOf(c), order.user_id) ? order : null;
}

export function createOrderHandlers({ store, users, clock, metrics, generateId, pager }: OrderHandlerDeps) {
  const create: Handler<typeof routes.createOrder> = async (c) => {
    const input = c.req.valid('json');
    ensureReaches(c, input.user_id, 'order for');
    const now = clock.now();
    const idempotency = idempotencyRequest(c.req.valid('header')['idempotency-key'], input);
    // A repeat is answered from the stored response first: no second user check, so a retry after
    // a timeout still gets its 201 even if user-service has gone away in the meantime.
    const stored = idempotency && (await store.findIdempotencyKey(idempotency.key));
    if (stored) {
      if (stored.requestHash !== idempotency.requestHash) throw idempotencyKeyReused();
      reserveAnswerOrRefuse(c, jsonBytes(stored.value));
      return replyJson(c, stored.value, 201, IDEMPOTENT_REPLAY_HEADERS);
    }
    const order = newOrder(input, { id: generateId(), now });
    // A large answer is held in the unsent-answer budget before anything is written (or refused: 503).
    reserveAnswerOrRefuse(c, jsonBytes(order));
    await users.ensureUserExists(input.user_id, c.get('requestId'), c.get('logger'));
    const result = await store.create(order, idempotency);
    if (result.outcome === 'key_reused') throw idempotencyKeyReused();
    if (result.outcome === 'created') metrics.ordersCreated.inc({ status: result.value.status });
    return replyJson(
      c,
      result.value,
      201,
      result.outcome === 'created' ? undefined : IDEMPOTENT_REPLAY_HEADERS,
    );
  };

  const list: Handler<typeof routes.listOrders> = async (c) => {
    const query = c.req.valid('query');
    const access = accessOf(c);
    // A token held to its own user lists that user's orders, whether or not it asks for them by user_id.
    if (!access.all && query.user_id !== undefined) ensureReaches(c, query.user_id, 'list the orders of');
    const userId = access.all ? query.user_id : access.userId;
    return pager.reply(c, query, (request) => store.list({ ...request, userId }));
  };

  const listForUser: Handler<typeof routes.listUserOrders> = async (c) => {
    const userId = c.req.valid('param').user_id;
    ensureReaches(c, userId, 'list the orders of');
    return pager.reply(c, c.req.valid('query'), (request) => store.list({ ...request, userId }));
  };

  const get: Handler<typeof routes.getOrder> = async (c) => {
    const { order_id } = c.req.valid('param');
    // While answers pile up unsent, a large order is refused before it is read, not after.
    if (unsentAnswersSpent(c)) reserveAnswerOrRefuse(c, (await store.jsonBytes(order_id)) ?? 0);
    const order = visible(c, await store.get(order_id));
    if (!order) throw notFound(ORDER_NOT_FOUND);
    return replyJson(c, order, 200);
  };

  const update: Handler<typeof routes.updateOrder> = async (c) => {
    const { order_id } = c.req.valid('param');
    const request = c.req.valid('json');
    for (let attempt = 1; ; attempt++) {
      const current = visible(c, await store.get(order_id));
      if (!current) throw notFound(ORDER_NOT_FOUND);
      reserveAnswerOrRefuse(c, jsonBytes(current));
      const plan = planOrderUpdate(current, request, clock.now());
      if (plan.kind === 'refused') throw conflict(plan.detail, plan.reason);
      if (plan.kind === 'unchanged') return replyJson(c, current, 200);
      const { changes } = plan;
      const result = await store.update(order_id, current.status, changes);
      if (result.outcome === 'not_found') throw notFound(ORDER_NOT_FOUND);
      if (result.outcome === 'updated') {
        if (changes.status) metrics.statusChanges.inc({ from: current.status, to: changes.status });
        return replyJson(c, result.order, 200);
      }
      if (attempt >= MAX_UPDATE_ATTEMPTS) throw conflict('The order is being changed concurrently; retry.');
    }
  };

  const remove: Handler<typeof routes.deleteOrder> = async (c) => {
    const { order_id } = c.req.valid('param');
    if (!accessOf(c).all && !visible(c, await store.get(order_id))) throw notFound(ORDER_NOT_FOUND);
    const deleted = await store.delete(order_id);
    if (!deleted) throw notFound(ORDER_NOT_FOUND);
    return reply(c, null, 204);
  };

  return { create, list, listForUser, get, update, remove };
}
