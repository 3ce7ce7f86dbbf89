import type { MiddlewareHandler } from 'hono';
import { scan } from 'secure-json-parse';
import { AppError } from '../errors/app-error.js';

/** Deepest nesting of objects and arrays a request body may have; the APIs need three. */
export const MAX_JSON_DEPTH = 32;

/** The media types hono's validator parses as JSON (application/json, application/*+json), parameters aside. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const mediaTypeOf = (contentType: string) => contentType.split(';')[0]?.trim() ?? '';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const badBody = (type: string, detail: string) =>
  new AppError({ status: 400, type, title: 'Bad Request', detail });

/**
 * Reads a JSON request body once, strictly, before route validation sees it: bytes must be UTF-8, nesting
 * at most `maxDepth` deep, the text valid JSON (no NaN, Infinity or trailing commas), and no `__proto__`
 * or `constructor.prototype` keys, which could poison prototypes wherever a body is merged into an
 * object. Each is a 400 problem saying which. The text and the parsed value are left where `c.req.json()`
 * and `c.req.text()` find them, so the body is read from the socket once. Other content types pass through for the validator to answer 415.
 */
export function strictJsonBody(maxDepth = MAX_JSON_DEPTH): MiddlewareHandler {
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const type = c.req.header('content-type');
    if (type === undefined || !JSON_MEDIA_TYPE.test(mediaTypeOf(type))) return next();

    const bytes = await c.req.arrayBuffer();
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw badBody('invalid-encoding', 'Request body is not valid UTF-8.');
    }
    if (nestingExceeds(text, maxDepth)) {
      throw badBody('json-too-deep', `JSON nesting exceeds ${maxDepth} levels.`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw badBody('malformed-json', 'Malformed JSON in request body.');
    }
    if (value !== null && typeof value === 'object') {
      try {
        scan(value, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        throw badBody(
          'forbidden-json-key',
          'JSON keys "__proto__" and "constructor.prototype" are not accepted.',
        );
      }
    }
    // Hono's `c.req.json()` reads the cached text (older versions the cached value); with neither cached
    // it would rebuild the body as a Fetch Response from the bytes and parse that, on every request.
    // (The cache holds promises at run time; hono's type says values.)
    (c.req.bodyCache as unknown as { text?: Promise<string> }).text = Promise.resolve(text);
    c.req.bodyCache.json = Promise.resolve(value);
    return next();
  };
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `{`/`[` outside strings nest deeper than `maxDepth`; one pass, stops at the first excess. */
export function nestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i += 1;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) {
      inString = true;
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}
