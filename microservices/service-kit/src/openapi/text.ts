import { z } from '@hono/zod-openapi';

// PostgreSQL text cannot hold NUL (U+0000), and no name, id or address needs one: refused up front as a
// 400 on the field rather than failing in the database as a 500.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly the character this refuses.
const WITHOUT_NUL = /^[^\u0000]*$/;

/** A string that may hold anything but NUL; the pattern is published in the OpenAPI document. */
export const plainString = () => z.string().regex(WITHOUT_NUL, 'must not contain NUL (U+0000) characters');

/** An id as clients send it in paths and bodies: 1-128 characters, no NUL. */
export const resourceId = () => plainString().min(1).max(128);
