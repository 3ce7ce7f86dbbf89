import { z } from '@hono/zod-openapi';
import { titleOf } from './catalogue.js';

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
    title: z.string().openapi({ example: 'Not Found' }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: 'User not found' }),
    instance: z.string().optional().openapi({ description: 'The request path', example: '/api/v1/users/42' }),
    request_id: z.string().optional().openapi({ example: 'c0a80101-7f1b-4c3e-9d2b-5b1f7d2e8a10' }),
    errors: z.array(FieldErrorSchema).optional().openapi({ description: 'Present on validation errors' }),
  })
  .openapi('Problem');

export type Problem = z.infer<typeof ProblemSchema>;

export const problemTypeUri = (slug: string) => `urn:problem-type:${slug}`;

const problemExamples: Record<number, { detail: string; type: string }> = {
  400: { detail: 'The request is invalid.', type: 'validation-error' },
  404: { detail: 'Resource not found', type: 'not-found' },
  409: { detail: 'The request conflicts with the current state.', type: 'conflict' },
  413: {
    detail: 'Request body exceeds 1048576 bytes.',
    type: 'payload-too-large',
  },
  422: {
    detail: 'This Idempotency-Key was already used with a different request body.',
    type: 'idempotency-key-reused',
  },
  408: { detail: 'The request was not received in time.', type: 'request-timeout' },
  405: {
    detail: 'DELETE is not allowed on /api/v1/users; allowed: GET, HEAD, POST',
    type: 'method-not-allowed',
  },
  431: {
    detail: 'Request headers are too large.',
    type: 'headers-too-large',
  },
  415: {
    detail: 'Content-Type must be application/json.',
    type: 'unsupported-media-type',
  },
  429: {
    detail: 'More than 200 requests at once or 100 per second from this client; retry after 1 s.',
    type: 'rate-limited',
  },
  500: { detail: 'An unexpected error occurred.', type: 'internal' },
  503: { detail: 'Try again later.', type: 'service-unavailable' },
  507: {
    detail: 'The in-memory store has reached MEMORY_STORE_MAX_BYTES; reads still work.',
    type: 'store-full',
  },
};

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

/**
 * OpenAPI `responses` entry for a problem with the given status. A 503 always documents `Retry-After`,
 * a 429 the rate-limit headers too.
 */
export function problemResponse(status: keyof typeof problemExamples, description?: string) {
  const example = problemExamples[status] ?? { detail: 'Error', type: 'about:blank' };
  const title = titleOf(status);
  const headers = status === 503 ? retryAfterHeader : status === 429 ? rateLimitHeaders : undefined;
  return {
    description: description ?? title,
    ...(headers ? { headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: ProblemSchema,
        example: { title, ...example, type: problemTypeUri(example.type), status },
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
  507,
  'The in-memory store is full (MEMORY_STORE_MAX_BYTES); reads still work',
);

/** The error responses every route can produce regardless of what it does. */
export const commonProblemResponses = {
  400: problemResponse(
    400,
    'Invalid request, e.g. a malformed X-Request-Id header; answered by the server before any route: a duplicate or missing Host, Transfer-Encoding on HTTP/1.0, a dot segment (plain or %2e-encoded) in the path',
  ),
  // The server answers these before any route runs (see boot/server/client-errors.ts, boot/server/strict-http.ts).
  408: problemResponse(
    408,
    'The headers did not arrive within HEADERS_TIMEOUT_MS, the request within REQUEST_TIMEOUT_MS, or the body at MIN_BODY_BYTES_PER_SECOND',
  ),
  431: problemResponse(431, 'Request headers exceed 16 KiB or 100 fields'),
  429: problemResponse(429, 'This client sent more than its rate limit allows (when RATE_LIMIT_ENABLED)'),
  500: problemResponse(500),
};

/** The error responses of every route that takes a JSON body. */
export const bodyProblemResponses = {
  400: problemResponse(
    400,
    'Invalid body, malformed JSON, unknown fields or invalid X-Request-Id; or refused by the server before any route (duplicate or missing Host, Transfer-Encoding on HTTP/1.0, a dot segment in the path)',
  ),
  408: commonProblemResponses[408],
  413: problemResponse(413),
  415: problemResponse(415),
  431: commonProblemResponses[431],
  429: commonProblemResponses[429],
  500: problemResponse(500),
};
