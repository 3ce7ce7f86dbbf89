import { createRouter } from '@microservices/service-kit';
import { createUserHandlers, type UserHandlerDeps } from './users.handlers.js';
import * as routes from './users.routes.js';

/** `/api/v1/users` routes, read top to bottom. */
export function createUsersRouter(deps: UserHandlerDeps) {
  const handlers = createUserHandlers(deps);
  return createRouter()
    .openapi(routes.createUser, handlers.create)
    .openapi(routes.listUsers, handlers.list)
    .openapi(routes.getUser, handlers.get)
    .openapi(routes.updateUser, handlers.update)
    .openapi(routes.deleteUser, handlers.remove);
}
