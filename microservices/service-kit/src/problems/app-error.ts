import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { titleOf } from './catalogue.js';

/** One entry of a validation problem: where in the request and what is wrong there. */
export interface FieldError {
  /** `body.items.0.price`, `query.limit`, `path.user_id`, `header.content-type` */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  status: ContentfulStatusCode;
  /** Stable machine-readable slug; becomes the problem `type` (`urn:problem-type:<slug>`). */
  type: string;
  /** Default: the status's title from the catalogue (problems/catalogue.ts). */
  title?: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/**
 * The one error type handlers throw. The central handler renders it as application/problem+json.
 * `detail` is shown to clients for 4xx; for 5xx a generic text is sent and the original is only logged.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: ContentfulStatusCode;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(options: AppErrorOptions) {
    super(options.detail);
    this.status = options.status;
    this.type = options.type;
    this.title = options.title ?? titleOf(options.status);
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export const notFound = (detail: string) => new AppError({ status: 404, type: 'not-found', detail });

export const conflict = (detail: string, type = 'conflict') => new AppError({ status: 409, type, detail });

export const validationFailed = (errors: FieldError[], detail = 'The request is invalid.') =>
  new AppError({ status: 400, type: 'validation-error', detail, errors });

export const serviceUnavailable = (detail: string, retryAfterSeconds: number, type = 'service-unavailable') =>
  new AppError({
    status: 503,
    type,
    detail,
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
