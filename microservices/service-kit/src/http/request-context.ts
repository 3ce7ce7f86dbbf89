import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { AppEnv } from './app-env.js';

/** Longest `X-Request-Id` accepted from a caller; longer or odd-looking ones are replaced by a fresh id. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Accepts or generates `X-Request-Id` (echoed on the response) and gives the request its own child logger. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv>[] {
  return [
    requestId({ limitLength: MAX_REQUEST_ID_LENGTH, headerName: 'X-Request-Id' }),
    async (c, next) => {
      c.set('logger', logger.child({ req_id: c.get('requestId') }));
      await next();
    },
  ];
}
