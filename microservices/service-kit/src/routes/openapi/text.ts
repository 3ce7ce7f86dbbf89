import { z } from '@hono/zod-openapi';

// What a store can hold verbatim: PostgreSQL text cannot hold NUL (U+0000), and a lone UTF-16 surrogate
// has no UTF-8 form, so the driver would store U+FFFD instead while the 201 confirmed the original (and
// encodeURIComponent throws on one, so it could not even be sent on to another service). No name, id or
// address needs either: refused up front as a 400 on the field, on both stores alike. Written without the
// `u` flag (the OpenAPI generator publishes the source and would mangle flags): a surrogate pair matches
// the second branch here, and as one code point the first branch in validators that compile `pattern` with
// Unicode semantics (JSON Schema's), so both accept exactly the well-formed strings without NUL.
const STORABLE_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly one of the characters this refuses.
  /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** Whether `text` is well-formed Unicode without NUL, i.e. what both stores keep exactly as sent. */
export const isStorableText = (text: string): boolean => STORABLE_TEXT.test(text);

/**
 * A string that may hold anything but NUL and lone surrogates (not well-formed Unicode); the pattern is
 * published in the OpenAPI document.
 */
export const plainString = () =>
  z.string().regex(STORABLE_TEXT, 'must be well-formed Unicode without NUL (U+0000) characters');

/** An id as clients send it in paths, queries and bodies: 1-128 characters, storable text. */
export const resourceId = () => plainString().min(1).max(128);
