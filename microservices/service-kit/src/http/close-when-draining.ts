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
    // Set before the answer is built where possible (see security-headers.ts for why that matters);
    // a request already in flight when shutdown began gets it on its finished response instead.
    const drainingAtStart = lifecycle.draining;
    if (drainingAtStart) c.header('Connection', 'close');
    await next();
    if (!drainingAtStart && lifecycle.draining) c.res.headers.set('Connection', 'close');
  };
}
