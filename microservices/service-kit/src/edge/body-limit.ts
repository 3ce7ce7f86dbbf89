import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Default request body limit (1 MiB); `BODY_LIMIT_BYTES` overrides it. */
export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;

export interface RequestBodyLimitOptions {
  maxSize: number;
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * hono's `bodyLimit` with the same answers, minus its cost on every request. It starts with
 * `c.req.raw.body`, and on @hono/node-server reading that property builds a full WHATWG Request (an
 * AbortController, a web ReadableStream over the socket, undici's Request internals) for every request,
 * GETs included, and takes the body off node-server's direct-read fast path. Measured with `npm run bench`,
 * that was about a sixth of user-service's CPU per GET, and the signal listeners it leaves behind made
 * memory climb under load. What hono decides from the method and headers alone is decided here the same
 * way without touching the body; requests it has to count chunk by chunk (no Content-Length, or
 * Transfer-Encoding) still go through hono's middleware.
 */
export function requestBodyLimit(options: RequestBodyLimitOptions): MiddlewareHandler {
  const countingLimit = bodyLimit(options);
  return async (c, next) => {
    const method = c.req.method;
    // A GET or HEAD request never has a Fetch API body, which is exactly when hono's `!raw.body` lets it through.
    if (method === 'GET' || method === 'HEAD') return next();
    const contentLength = c.req.header('content-length');
    if (contentLength !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(contentLength || '0', 10) > options.maxSize ? options.onError(c) : next();
    }
    return countingLimit(c, next);
  };
}
