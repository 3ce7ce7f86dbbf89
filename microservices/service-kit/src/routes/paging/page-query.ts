import { z } from '@hono/zod-openapi';
import { validationFailed } from '../../problems/app-error.js';

/**
 * A whole number in a query string, as the seed (FastAPI `int`) accepted it: decimal digits only, so
 * `1e2`, `0x10`, `1.0` or ` 5` are refused rather than silently read as another number.
 */
const wholeNumber = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be >= ${min}`).max(max, `must be <= ${max}`))
    .optional()
    .transform((v) => v ?? fallback);

/** Most items one page may hold, as the seed API allowed; a page also stops at the answer's byte budget. */
export const MAX_PAGE_SIZE = 1000;
/** The page size when a request names none. */
export const DEFAULT_PAGE_SIZE = 100;

const CURSOR = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * `skip`/`limit` as the seed API accepts them (0-based offset, page size 1..1000, default 100), and
 * `cursor`, the opaque position a previous page's `Link: <…>; rel="next"` carries: it resumes exactly
 * after the last item that page held, however the collection changed meanwhile, and costs the same at
 * any depth (an offset makes the database walk every skipped row).
 */
export const PaginationQuerySchema = z.object({
  skip: wholeNumber(0, Number.MAX_SAFE_INTEGER, 0).openapi({
    param: { name: 'skip', in: 'query' },
    type: 'integer',
    minimum: 0,
    default: 0,
    example: 0,
    description: 'Items to skip (not with `cursor`)',
  }),
  limit: wholeNumber(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE).openapi({
    param: { name: 'limit', in: 'query' },
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: 100,
    example: 100,
    description: 'Most items on this page (1..1000); a page also ends at the answer size limit',
  }),
  cursor: z
    .string()
    .regex(CURSOR, 'must be a cursor from a Link header')
    .optional()
    .openapi({
      param: { name: 'cursor', in: 'query' },
      description: 'Where to resume: the `cursor` of the previous page’s `Link: <…>; rel="next"` URL',
    }),
});

/** Which items a list request asks for: after a position (cursor) or past an offset (skip). */
export interface PageRequest {
  skip: number;
  limit: number;
  /** Only items after this position; from the cursor. */
  after?: number | undefined;
}

/** An item with its place in its collection's stable order, from which a cursor resumes. */
export interface Positioned<T> {
  position: number;
  value: T;
  /**
   * Bytes of its JSON, or a lower bound escape-aware enough that the JSON is at most a few dozen bytes
   * more: the pager sizes pages from it before serialising anything.
   */
  minJsonBytes: number;
}

/** The cursor that resumes after `position`: opaque to clients (base64url), cheap to check. */
export const encodeCursor = (position: number): string =>
  Buffer.from(`p${position}`, 'latin1').toString('base64url');

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('latin1');
  const match = /^p(\d{1,16})$/.exec(text);
  const position = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(position)) {
    throw validationFailed(
      [{ path: 'query.cursor', message: 'is not a cursor this service issued' }],
      'Invalid request: query.cursor is not a cursor this service issued',
    );
  }
  return position;
}

/** The PageRequest a validated query asks for; `cursor` and a non-zero `skip` together are a 400. */
export function pageRequestOf(query: {
  skip: number;
  limit: number;
  cursor?: string | undefined;
}): PageRequest {
  if (query.cursor === undefined) return { skip: query.skip, limit: query.limit };
  if (query.skip !== 0) {
    throw validationFailed(
      [{ path: 'query.skip', message: 'cannot be combined with cursor' }],
      'Invalid request: query.skip cannot be combined with cursor',
    );
  }
  return { skip: 0, limit: query.limit, after: decodeCursor(query.cursor) };
}
