import { createRouter } from '@microservices/service-kit';
import { createOrderHandlers, type OrderHandlerDeps } from './orders.handlers.js';
import * as routes from './orders.routes.js';

/** `/api/v1/orders` routes, read top to bottom. `/user/{user_id}` comes before `/{order_id}` on purpose. */
export function createOrdersRouter(deps: OrderHandlerDeps) {
  const handlers = createOrderHandlers(deps);
  return createRouter()
    .openapi(routes.createOrder, handlers.create)
    .openapi(routes.listOrders, handlers.list)
    .openapi(routes.listUserOrders, handlers.listForUser)
    .openapi(routes.getOrder, handlers.get)
    .openapi(routes.updateOrder, handlers.update)
    .openapi(routes.deleteOrder, handlers.remove);
}
