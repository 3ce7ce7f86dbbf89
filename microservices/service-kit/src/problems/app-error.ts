import { type ProblemSlug, type ProblemStatus, problemType, type SlugWithStatus } from './catalogue.js';

/** One entry of a validation problem: where in the request and what is wrong there. */
export interface FieldError {
  /** `body.items.0.price`, `query.limit`, `path.user_id`, `header.content-type` */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  /**
   * The problem type's slug from the catalogue (problems/catalogue.ts), which gives its status and title;
   * it becomes the problem `type` (`urn:problem-type:<slug>`).
   */
  type: ProblemSlug;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/**
 * The one error type handlers throw. The central handler renders it as application/problem+json.
 * `detail` is shown to clients for 4xx; for 5xx a generic text is sent and the original is only logged.
 * Status and title are the catalogue's for the slug, never the thrower's.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: ProblemStatus;
  readonly type: ProblemSlug;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(options: AppErrorOptions) {
    super(options.detail);
    const { status, title } = problemType(options.type);
    this.status = status;
    this.type = options.type;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export const notFound = (detail: string) => new AppError({ type: 'not-found', detail });

export const conflict = (detail: string, type: SlugWithStatus<409> = 'conflict') =>
  new AppError({ type, detail });

export const validationFailed = (errors: FieldError[], detail = 'The request is invalid.') =>
  new AppError({ type: 'validation-error', detail, errors });

export const serviceUnavailable = (
  detail: string,
  retryAfterSeconds: number,
  type: SlugWithStatus<503> = 'service-unavailable',
) =>
  new AppError({
    type,
    detail,
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
