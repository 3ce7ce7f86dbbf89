import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { problemOf } from '../problems/problem-schemas.js';
import type { AppEnv } from './app-env.js';
import { problemJson } from './error-handler.js';

/** Longest `X-Request-Id` accepted from a caller. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** UUIDs, hex trace ids and `key=value`-style ids fit; nothing that could split a header or a log line. */
const VALID_REQUEST_ID = new RegExp(`^[\\w.:=-]{1,${MAX_REQUEST_ID_LENGTH}}$`);

export interface RequestId {
  id: string;
  /** The caller sent an id that was not acceptable (replaced by `id`). */
  rejected: boolean;
}

/** Adopts the caller's `X-Request-Id` when it is acceptable, else generates one. */
export function resolveRequestId(sent: string | undefined): RequestId {
  if (sent === undefined) return { id: randomUUID(), rejected: false };
  return VALID_REQUEST_ID.test(sent) ? { id: sent, rejected: false } : { id: randomUUID(), rejected: true };
}

/**
 * The 400 problem for a request whose `X-Request-Id` was rejected (too long, or other characters), rather
 * than silently replacing it: the caller learns its correlation id was never used. The refusal carries a
 * fresh id.
 */
export function invalidRequestIdProblem(c: Context<AppEnv>): Response {
  return problemJson(
    c,
    problemOf(
      'invalid-request-id',
      `X-Request-Id must be 1-${MAX_REQUEST_ID_LENGTH} characters of letters, digits, '_', '-', '.', ':' or '='.`,
    ),
  );
}
