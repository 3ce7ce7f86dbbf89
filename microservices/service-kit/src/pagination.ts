import { z } from '@hono/zod-openapi';

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

/** `skip`/`limit` as the seed API accepts them: 0-based offset, page size 1..1000 (default 100). */
export const PaginationQuerySchema = z.object({
  skip: wholeNumber(0, Number.MAX_SAFE_INTEGER, 0).openapi({
    param: { name: 'skip', in: 'query' },
    type: 'integer',
    minimum: 0,
    default: 0,
    example: 0,
    description: 'Items to skip',
  }),
  limit: wholeNumber(1, 1000, 100).openapi({
    param: { name: 'limit', in: 'query' },
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    default: 100,
    example: 100,
    description: 'Page size (1..1000)',
  }),
});
