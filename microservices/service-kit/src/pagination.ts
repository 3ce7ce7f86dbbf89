import { z } from '@hono/zod-openapi';

/** `skip`/`limit` as the seed API accepts them: 0-based offset, page size 1..1000 (default 100). */
export const PaginationQuerySchema = z.object({
  skip: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(0)
    .openapi({ param: { name: 'skip', in: 'query' }, example: 0, description: 'Items to skip' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 100, description: 'Page size (1..1000)' }),
});
