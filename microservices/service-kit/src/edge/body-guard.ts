import type { MiddlewareHandler } from 'hono';
import { AppError } from '../problems/app-error.js';
import { requestBodyLimit } from './body-limit.js';
import { strictJsonBody } from './json-body.js';

/** Methods whose requests carry no body to limit or parse. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the API and admin surfaces do with a request body before validation sees it, as one middleware so
 * requests without a body pass through a single layer: the size limit (413), then the strict JSON reader.
 */
export function requestBodyGuard(bodyLimitBytes: number): MiddlewareHandler {
  const limit = requestBodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw new AppError({
        type: 'payload-too-large',
        detail: `Request body exceeds ${bodyLimitBytes} bytes.`,
      });
    },
  });
  const json = strictJsonBody();
  return async (c, next) => {
    if (BODYLESS_METHODS.has(c.req.method)) return next();
    return limit(c, () => json(c, next) as Promise<void>);
  };
}
