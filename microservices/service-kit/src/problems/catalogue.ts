/**
 * The title of every status a problem can have: the one place titles are spelled. A problem's `title` is
 * the status's reason phrase (RFC 9457 §3.1.4: it does not change from occurrence to occurrence); what
 * happened is in its `type` slug and `detail`.
 */
export const PROBLEM_TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
} as const;

export type ProblemStatus = keyof typeof PROBLEM_TITLES;

/** What every problem of one type answers: its status, and that status's title. */
export interface ProblemType<S extends ProblemStatus = ProblemStatus> {
  readonly status: S;
  readonly title: (typeof PROBLEM_TITLES)[S];
}

const answeredWith = <S extends ProblemStatus>(status: S): ProblemType<S> => ({
  status,
  title: PROBLEM_TITLES[status],
});

/**
 * Every problem type the services answer, by slug (`urn:problem-type:<slug>`): the one place a type's
 * status is decided. A problem is raised by naming its slug (`new AppError({ type, detail })`, a helper
 * in app-error.ts, `problemOf`); a slug not listed here does not type-check.
 */
export const PROBLEM_TYPES = {
  // 400: the request itself is wrong
  'validation-error': answeredWith(400),
  'bad-request': answeredWith(400),
  'invalid-request-id': answeredWith(400),
  'invalid-encoding': answeredWith(400),
  'malformed-json': answeredWith(400),
  'json-too-deep': answeredWith(400),
  'json-too-many-entries': answeredWith(400),
  'imprecise-number': answeredWith(400),
  'forbidden-json-key': answeredWith(400),
  // 400 answered by the server before the app (boot/server)
  'malformed-http': answeredWith(400),
  'duplicate-host': answeredWith(400),
  'missing-host': answeredWith(400),
  'transfer-encoding-http10': answeredWith(400),
  'invalid-path': answeredWith(400),
  // 400 from authentication: a bearer token in the URL (RFC 6750 invalid_request)
  'token-in-query': answeredWith(400),
  // 401: who is calling could not be established (edge/auth)
  'authentication-required': answeredWith(401),
  'invalid-token': answeredWith(401),
  // 403: the caller is known and may not do this
  'insufficient-scope': answeredWith(403),
  'not-owner': answeredWith(403),
  'not-found': answeredWith(404),
  'method-not-allowed': answeredWith(405),
  'request-timeout': answeredWith(408),
  // 409: the request conflicts with what is stored
  conflict: answeredWith(409),
  'email-taken': answeredWith(409),
  'invalid-status-transition': answeredWith(409),
  'address-locked': answeredWith(409),
  'payload-too-large': answeredWith(413),
  'unsupported-media-type': answeredWith(415),
  'idempotency-key-reused': answeredWith(422),
  'rate-limited': answeredWith(429),
  'headers-too-large': answeredWith(431),
  // Never reaches the client (it left); the status is for the access log and metrics.
  'client-closed-request': answeredWith(499),
  internal: answeredWith(500),
  // 503: retry later
  'service-unavailable': answeredWith(503),
  overloaded: answeredWith(503),
  'database-unavailable': answeredWith(503),
  'user-service-unavailable': answeredWith(503),
  'identity-provider-unavailable': answeredWith(503),
  // Fault injection's `down` and `error` modes; in `error` mode half of them imitate `internal` instead
  // (routes/faults/fault-injector.ts), keeping this slug and taking that type's status and title.
  'fault-injected': answeredWith(503),
  'store-full': answeredWith(507),
} as const satisfies Record<string, ProblemType>;

/** The slug of a problem type the catalogue lists. */
export type ProblemSlug = keyof typeof PROBLEM_TYPES;

/** The slugs whose problems answer with `status`, e.g. `SlugWithStatus<409>`. */
export type SlugWithStatus<S extends ProblemStatus> = {
  [K in ProblemSlug]: (typeof PROBLEM_TYPES)[K]['status'] extends S ? K : never;
}[ProblemSlug];

/** The catalogue's entry for `slug`; throws for a slug it does not list (only reachable past the types). */
export function problemType(slug: ProblemSlug): ProblemType {
  const type: ProblemType | undefined = Object.hasOwn(PROBLEM_TYPES, slug) ? PROBLEM_TYPES[slug] : undefined;
  if (type === undefined) throw new TypeError(`"${slug}" is not a problem type of the catalogue`);
  return type;
}

/**
 * The title of a problem with `status`; `Error` for a status the catalogue does not list. Only for
 * statuses that do not come from a slug here (an HTTPException of Hono's).
 */
export const titleOf = (status: number): string =>
  (PROBLEM_TITLES as Partial<Record<number, string>>)[status] ?? 'Error';
