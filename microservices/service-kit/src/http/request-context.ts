import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { problemJson } from '../errors/error-handler.js';
import { problemTypeUri } from '../errors/problem.js';
import type { AppEnv } from './app-env.js';

/** Longest `X-Request-Id` accepted from a caller. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** UUIDs, hex trace ids and `key=value`-style ids fit; nothing that could split a header or a log line. */
const VALID_REQUEST_ID = new RegExp(`^[\\w.:=-]{1,${MAX_REQUEST_ID_LENGTH}}$`);

/**
 * Adopts the caller's `X-Request-Id` when it is acceptable, else generates one; echoes it on the response
 * (it is forwarded upstream and on every log line) and gives the request its own child logger.
 */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sent = c.req.header('x-request-id');
    const acceptable = sent !== undefined && VALID_REQUEST_ID.test(sent);
    const id = acceptable ? sent : randomUUID();
    c.set('requestId', id);
    c.set('requestIdRejected', sent !== undefined && !acceptable);
    c.set('logger', logger.child({ req_id: id }));
    c.header('X-Request-Id', id);
    await next();
  };
}

/**
 * Refuses a request whose `X-Request-Id` requestContext rejected (too long, or other characters) with a
 * 400 problem, rather than silently replacing it: the caller learns its correlation id was never used.
 * Runs after the access log and metrics middleware so refusals are counted; the refusal carries a fresh id.
 */
export function refuseInvalidRequestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.get('requestIdRejected')) return next();
    return problemJson(c, {
      type: problemTypeUri('invalid-request-id'),
      title: 'Bad Request',
      status: 400,
      detail: `X-Request-Id must be 1-${MAX_REQUEST_ID_LENGTH} characters of letters, digits, '_', '-', '.', ':' or '='.`,
    });
  };
}
