import { z } from '@hono/zod-openapi';
import { PROBLEM_TITLES, type ProblemSlug, problemType } from './catalogue.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const FieldErrorSchema = z
  .object({
    path: z.string().openapi({ example: 'body.email' }),
    message: z.string().openapi({ example: 'Invalid email address' }),
  })
  .openapi('FieldError');

/** RFC 9457 problem details as every error response of both services carries them. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:problem-type:not-found' }),
    title: z.string().openapi({ example: PROBLEM_TITLES[404] }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: 'User not found' }),
    instance: z.string().optional().openapi({ description: 'The request path', example: '/api/v1/users/42' }),
    request_id: z.string().optional().openapi({ example: 'c0a80101-7f1b-4c3e-9d2b-5b1f7d2e8a10' }),
    errors: z.array(FieldErrorSchema).optional().openapi({ description: 'Present on validation errors' }),
  })
  .openapi('Problem');

export type Problem = z.infer<typeof ProblemSchema>;

export const problemTypeUri = (slug: ProblemSlug) => `urn:problem-type:${slug}`;

/** The problem+json members of a problem of type `slug`: its status and title from the catalogue. */
export function problemOf(slug: ProblemSlug, detail: string): Omit<Problem, 'instance' | 'request_id'> {
  const { status, title } = problemType(slug);
  return { type: problemTypeUri(slug), title, status, detail };
}

/** The `detail` of the documented example of each problem type a route may document. */
const exampleDetails = {
  'validation-error': 'The request is invalid.',
  'not-found': 'Resource not found',
  conflict: 'The request conflicts with the current state.',
  'payload-too-large': 'Request body exceeds 1048576 bytes.',
  'idempotency-key-reused': 'This Idempotency-Key was already used with a different request body.',
  'request-timeout': 'The request was not received in time.',
  'method-not-allowed': 'DELETE is not allowed on /api/v1/users; allowed: GET, HEAD, POST',
  'headers-too-large': 'Request headers are too large.',
  'unsupported-media-type': 'Content-Type must be application/json.',
  'rate-limited': 'More than 200 requests at once or 100 per second from this client; retry after 1 s.',
  internal: 'An unexpected error occurred.',
  'service-unavailable': 'Try again later.',
  'store-full': 'The in-memory store has reached MEMORY_STORE_MAX_BYTES; reads still work.',
  'authentication-required': 'This request needs a bearer token: Authorization: Bearer <access token>.',
  'invalid-token': 'The token has expired.',
  'token-in-query': 'Send the token in the Authorization header, never in the URL.',
  'insufficient-scope': 'This token lacks the scope this operation needs: users:read or users:read:own.',
  'not-owner': 'This token acts for user 3f0c2d3e-5a4b; it may not create orders for another user.',
  'identity-provider-unavailable':
    'The identity provider cannot be reached to check this token; retry shortly.',
} as const satisfies Partial<Record<ProblemSlug, string>>;

/** A problem type a route can document with problemResponse. */
export type DocumentedProblem = keyof typeof exampleDetails;

const retryAfterHeader = {
  'Retry-After': {
    required: true,
    description: 'Seconds after which a retry is worth trying',
    schema: { type: 'integer' as const, minimum: 1 },
  },
};

const rateLimitHeaders = {
  ...retryAfterHeader,
  'RateLimit-Policy': {
    description: 'The client’s quota: `"default";q=<burst>;w=<seconds>` (IETF RateLimit header fields)',
    schema: { type: 'string' as const },
  },
  RateLimit: {
    description: 'What is left of it: `"default";r=<remaining>;t=<seconds until refilled>`',
    schema: { type: 'string' as const },
  },
};

const challengeHeader = {
  'WWW-Authenticate': {
    required: true,
    description:
      'The bearer challenge of RFC 6750: `Bearer realm="<service>"`, with `error` (`invalid_token`, `invalid_request`, `insufficient_scope`) and `error_description` when a token was sent',
    schema: { type: 'string' as const },
  },
};

/** The headers a problem of `status` always carries. */
const headersOf = (status: number) => {
  if (status === 503) return retryAfterHeader;
  if (status === 429) return rateLimitHeaders;
  if (status === 401) return challengeHeader;
  return undefined;
};

/**
 * OpenAPI `responses` entry for a problem of type `slug` (put under its status,
 * `404: problemResponse('not-found', …)`), with an example; status and title are the catalogue's. A 503
 * always documents `Retry-After`, a 429 the rate-limit headers too, a 401 its `WWW-Authenticate` challenge.
 */
export function problemResponse(slug: DocumentedProblem, description?: string) {
  const { status, title } = problemType(slug);
  const detail = exampleDetails[slug];
  const headers = headersOf(status);
  return {
    description: description ?? title,
    ...(headers ? { headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: ProblemSchema,
        example: { title, detail, type: problemTypeUri(slug), status },
      },
    },
  };
}

/** A list answer's description, with the `Link` header that says where the next page starts. */
export function pageResponse<S>(description: string, content: S) {
  return {
    description,
    headers: {
      Link: {
        description:
          'Present when there is more: `<…?limit=…&cursor=…>; rel="next"` (RFC 8288), relative to this request. ' +
          'A page ends at `limit` items or at the answer size limit, whichever comes first.',
        schema: { type: 'string' as const },
      },
    },
    content,
  };
}

/** The answer of a write the full in-memory store refuses (see MemoryBudget). */
export const storeFullResponse = problemResponse(
  'store-full',
  'The in-memory store is full (MEMORY_STORE_MAX_BYTES); reads still work',
);

/** The error responses every route can produce regardless of what it does. */
export const commonProblemResponses = {
  400: problemResponse(
    'validation-error',
    'Invalid request, e.g. a malformed X-Request-Id header; answered by the server before any route: a duplicate or missing Host, Transfer-Encoding on HTTP/1.0, a dot segment (plain or %2e-encoded) in the path',
  ),
  // The server answers these before any route runs (see boot/server/client-errors.ts, boot/server/strict-http.ts).
  408: problemResponse(
    'request-timeout',
    'The headers did not arrive within HEADERS_TIMEOUT_MS, the request within REQUEST_TIMEOUT_MS, or the body at MIN_BODY_BYTES_PER_SECOND',
  ),
  431: problemResponse('headers-too-large', 'Request headers exceed 16 KiB or 100 fields'),
  429: problemResponse(
    'rate-limited',
    'This client sent more than its rate limit allows (when RATE_LIMIT_ENABLED)',
  ),
  500: problemResponse('internal'),
};

/** The error responses of every route that takes a JSON body. */
export const bodyProblemResponses = {
  400: problemResponse(
    'validation-error',
    'Invalid body, malformed JSON, unknown fields or invalid X-Request-Id; or refused by the server before any route (duplicate or missing Host, Transfer-Encoding on HTTP/1.0, a dot segment in the path)',
  ),
  408: commonProblemResponses[408],
  413: problemResponse('payload-too-large'),
  415: problemResponse('unsupported-media-type'),
  431: commonProblemResponses[431],
  429: commonProblemResponses[429],
  500: problemResponse('internal'),
};
