import type { HttpBindings } from '@hono/node-server';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError } from '../problems/app-error.js';
import { type ProblemSlug, titleOf } from '../problems/catalogue.js';
import {
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemOf,
  problemTypeUri,
} from '../problems/problem-schemas.js';
import { MAX_ECHOED_TEXT } from '../problems/zod-issues.js';
import type { AppEnv } from './app-env.js';
import { connectionCutStatus } from './connection-verdict.js';
import { reply } from './reply.js';

/** The problem type of an HTTPException (Hono's) by its status; any other status is a `bad-request`. */
const statusSlugs: Partial<Record<number, ProblemSlug>> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  503: 'service-unavailable',
};

/** A path echoed in a problem, clipped: paths may be as long as the header limit allows. */
const clipped = (path: string) =>
  path.length <= MAX_ECHOED_TEXT ? path : `${path.slice(0, MAX_ECHOED_TEXT - 1)}…`;

/** Renders a problem+json response; the request id and path are added here so no handler forgets them. */
export function problemJson(
  c: Context<AppEnv>,
  problem: Omit<Problem, 'instance' | 'request_id'>,
  headers?: Record<string, string>,
): Response {
  const body: Problem = { ...problem, instance: clipped(c.req.path) };
  const requestId = c.get('requestId');
  if (requestId) body.request_id = requestId;
  return reply(
    c,
    JSON.stringify(body),
    problem.status as ContentfulStatusCode,
    PROBLEM_CONTENT_TYPE,
    headers,
  );
}

/**
 * The status of a request whose connection is gone while the app was still reading it, if it is: `408`
 * when the server cut it (request timeout, body too slow), else `499`, nginx's "client closed request".
 * Neither answer reaches anyone; the status is for the access log and metrics, which must not count an
 * abandoned upload as a server error (anyone could inflate the 5xx alert with them).
 */
function abandonedStatus(c: Context<AppEnv>): 408 | 499 | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming?.destroyed) return undefined;
  return connectionCutStatus(incoming.socket) === 408 ? 408 : 499;
}

const INTERNAL_DETAIL = 'An unexpected error occurred. Quote the request id when reporting it.';

/** Central error handler: AppError and HTTPException become problems; anything else is a 500 without internals. */
export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof AppError) {
    // Expected 5xx (dependency down) are logged once per incident where they start, not once per request;
    // the access-log line still records each 503.
    if (err.status >= 500) c.get('logger')?.debug({ problem_type: err.type }, 'request failed');
    return problemJson(
      c,
      {
        type: problemTypeUri(err.type),
        title: err.title,
        status: err.status,
        detail: err.detail,
        ...(err.errors ? { errors: err.errors } : {}),
      },
      err.headers,
    );
  }
  if (err instanceof HTTPException && err.status < 500) {
    const status = err.status;
    return problemJson(c, {
      type: problemTypeUri(statusSlugs[status] ?? 'bad-request'),
      title: titleOf(status),
      status,
      detail: err.message || titleOf(status),
    });
  }
  const abandoned = abandonedStatus(c);
  if (abandoned !== undefined) {
    return problemJson(
      c,
      abandoned === 408
        ? problemOf('request-timeout', 'The request was not received in time.')
        : problemOf('client-closed-request', 'The client closed the connection before the request was read.'),
    );
  }
  c.get('logger')?.error({ err }, 'unhandled error');
  return problemJson(c, problemOf('internal', INTERNAL_DETAIL));
};

/**
 * No route matched: a `405` with `Allow` when routes answer this path with other methods (`allowedMethods`
 * derives them from the registered routes), else a `404`.
 */
export const notFoundHandler =
  (allowedMethods: (path: string) => readonly string[]): NotFoundHandler<AppEnv> =>
  (c) => {
    c.set('unmatchedRoute', true);
    const allowed = allowedMethods(c.req.path);
    // A route that matched and said "not found" itself (an unknown asset) stays a 404.
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return problemJson(
        c,
        problemOf(
          'method-not-allowed',
          `${c.req.method} is not allowed on ${clipped(c.req.path)}; allowed: ${allowed.join(', ')}`,
        ),
        { Allow: allowed.join(', ') },
      );
    }
    return problemJson(c, problemOf('not-found', `No route for ${c.req.method} ${clipped(c.req.path)}`));
  };
