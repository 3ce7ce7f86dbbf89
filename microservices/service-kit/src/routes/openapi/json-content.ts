import type { z } from '@hono/zod-openapi';

/** The `content` of an OpenAPI request or response body that is JSON of `schema`. */
export const jsonContent = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
