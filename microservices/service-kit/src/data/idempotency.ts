import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { AppError } from '../problems/app-error.js';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Marks an answer replayed from a remembered key (documented on every create). */
export const IDEMPOTENT_REPLAY_HEADERS: Readonly<Record<string, string>> = { 'Idempotent-Replayed': 'true' };

/** A create request that carried an `Idempotency-Key` header. */
export interface IdempotencyRequest {
  key: string;
  /** Hash of the validated request body: the same key with another body is a client bug (422). */
  requestHash: string;
  /** How long the key lives, counted by the store's own clock (PostgreSQL's `now()` for PostgreSQL). */
  ttlMs: number;
}

/** What an idempotent create did. `replayed` returns the body the first request got, untouched. */
export type IdempotentResult<T> =
  | { outcome: 'created'; value: T }
  | { outcome: 'replayed'; value: T }
  | { outcome: 'key_reused' };

/** A remembered key, for answering a repeat before doing any other work (e.g. upstream calls). */
export interface StoredIdempotencyKey<T> {
  requestHash: string;
  value: T;
}

/** Stable hash of a validated body (zod output has a fixed key order, so equal bodies hash equally). */
export const hashRequest = (body: unknown) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

/** Optional `Idempotency-Key` request header, as documented on every create. */
export const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1-255 visible ASCII characters')
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description:
        'Makes the create safe to retry: a repeat with the same key and body within 24 h returns the original ' +
        'response without creating anything; the same key with a different body is a 422.',
      example: '5f0b7c8e-2d1a-4a59-9b6e-0c3d2e1f4a5b',
    }),
});

export const idempotencyKeyReused = () =>
  new AppError({
    type: 'idempotency-key-reused',
    detail: 'This Idempotency-Key was already used with a different request body.',
  });

/** The request's idempotency parameters, or undefined when the header was not sent. */
export function idempotencyRequest(key: string | undefined, body: unknown): IdempotencyRequest | undefined {
  if (key === undefined) return undefined;
  return { key, requestHash: hashRequest(body), ttlMs: IDEMPOTENCY_TTL_MS };
}
