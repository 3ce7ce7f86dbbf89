import type { MiddlewareHandler } from 'hono';
import type { Lifecycle } from '../health/lifecycle.js';

/**
 * Once shutdown has begun, every answer says `Connection: close`, so keep-alive clients open a new
 * connection for their next request (to another pod, or a clean refusal here once the listener is
 * closed) instead of writing it onto a socket the drain is about to close: a request lost that way is
 * one the client cannot tell was never processed.
 */
export function closeConnectionsWhenDraining(lifecycle: Lifecycle): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (lifecycle.draining) c.header('Connection', 'close');
  };
}
