import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.js';
import { reply } from './reply.js';

export interface CorsOptions {
  /** Origins allowed to call, exactly as browsers send them (`https://shop.example`). */
  origins: readonly string[];
  /** Response headers a browser script may read. */
  exposeHeaders: readonly string[];
}

/** Response headers a cross-origin script may read: the request id, when to retry, and a 401's challenge. */
export const CORS_EXPOSED_HEADERS: readonly string[] = ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'];

/** hono/cors's default (what CORS answered before this middleware replaced it): the methods a preflight allows. */
const ALLOWED_METHODS = 'GET,HEAD,PUT,POST,DELETE,PATCH,QUERY';

/**
 * CORS for an allow-list of origins, answering as `hono/cors` does for the same options, through the
 * request's header envelope. `hono/cors` writes on `c.res.headers` before and after the handler, which
 * builds a Fetch `Headers` for every request and copies the handler's answer into a new Response: it
 * turned the kit's header fast path off for every request once CORS_ORIGINS was set. Here the headers go
 * through `c.header()` before the answer exists (see installEnvelope), so kit replies stay plain records,
 * and a preflight is a kit reply itself.
 */
export function corsHeaders({ origins, exposeHeaders }: CorsOptions): MiddlewareHandler<AppEnv> {
  const allowed = new Set(origins);
  const expose = exposeHeaders.length > 0 ? exposeHeaders.join(',') : undefined;
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && allowed.has(origin)) c.header('Access-Control-Allow-Origin', origin);
    if (expose) c.header('Access-Control-Expose-Headers', expose);
    if (c.req.method === 'OPTIONS') {
      const preflight: Record<string, string> = {
        Vary: 'Origin',
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
      };
      const requested = c.req.header('access-control-request-headers');
      if (requested) {
        preflight['Access-Control-Allow-Headers'] = requested
          .split(',')
          .map((h) => h.trim())
          .join(',');
        preflight.Vary = 'Origin, Access-Control-Request-Headers';
      }
      return reply(c, null, 204, undefined, preflight);
    }
    // The answer depends on Origin whatever it is: caches must keep one per origin.
    c.header('Vary', 'Origin');
    return next();
  };
}
