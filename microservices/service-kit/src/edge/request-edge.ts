import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import type { Lifecycle } from '../base/lifecycle.js';
import { isCallerSurface, surfaceOf } from '../base/surfaces.js';
import type { AppEnv } from './app-env.js';
import { addMissingHeaders, installEnvelope, standardHeadersFor } from './envelope.js';
import type { RequestObserver } from './observe-requests.js';
import { carriesStandardHeaders } from './reply.js';
import { invalidRequestIdProblem, resolveRequestId } from './request-id.js';

export interface RequestEdgeOptions {
  logger: Logger;
  observer: RequestObserver;
  lifecycle: Lifecycle;
}

/**
 * What the kit does around every request, in one middleware rather than one per concern (every layer of
 * async middleware is a measurable share of a probe's cost):
 * - the request id (the caller's when acceptable) on the context, a child logger carrying it, and the
 *   request's header envelope (envelope.ts: the standard headers chosen for its surface, and a `c.header()`
 *   whose headers every answer carries); on `/api/*` and `/admin/*` an unacceptable id is refused with a
 *   400 instead;
 * - the same headers added to any answer not built by those helpers (Hono's own, CORS preflights, docs);
 * - `Connection: close` on every answer once shutdown has begun, so keep-alive clients open a new
 *   connection for their next request (to another pod, or a clean refusal here once the listener is
 *   closed) instead of writing it onto a socket the drain is about to close;
 * - metrics and the access-log line (RequestObserver).
 */
export function requestEdge({ logger, observer, lifecycle }: RequestEdgeOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const startedAt = observer.started();
    const { id, rejected } = resolveRequestId(c.req.header('x-request-id'));
    const drainingAtStart = lifecycle.draining;
    const surface = surfaceOf(c.req.path);
    c.set('requestId', id);
    c.set('logger', logger.child({ req_id: id }));
    installEnvelope(c, standardHeadersFor(surface, drainingAtStart));
    try {
      // Only the API surface refuses a bad id: a probe must never fail on a header.
      if (rejected && isCallerSurface(surface)) c.res = invalidRequestIdProblem(c);
      else await next();
      if (!carriesStandardHeaders(c.res)) addMissingHeaders(c.res.headers, c);
      // A request already in flight when shutdown began gets it on its finished answer.
      if (!drainingAtStart && lifecycle.draining) c.res.headers.set('Connection', 'close');
    } finally {
      const route = c.get('unmatchedRoute') ? 'unmatched' : routePath(c, -1);
      observer.finished(
        {
          method: c.req.method,
          route,
          path: c.req.path,
          status: c.res.status,
          requestId: id,
          subject: c.get('subject'),
        },
        startedAt,
      );
    }
  };
}
