import type { MiddlewareHandler } from 'hono';
import { scan } from 'secure-json-parse';
import { AppError } from '../problems/app-error.js';
import type { ProblemSlug } from '../problems/catalogue.js';

/** Deepest nesting of objects and arrays a request body may have; the APIs need three. */
export const MAX_JSON_DEPTH = 32;

/**
 * Most entries (commas: object members and array elements) a request body may have. The largest valid
 * body, an order of 100 items, has about 400; a cap well above that stops a body of 80,000 unknown keys
 * before parsing and validation spend time on it.
 */
export const MAX_JSON_ENTRIES = 2_000;

/** The media types hono's validator parses as JSON (application/json, application/*+json), parameters aside. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const mediaTypeOf = (contentType: string) => contentType.split(';')[0]?.trim() ?? '';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const badBody = (type: ProblemSlug, detail: string) => new AppError({ type, detail });

/**
 * Reads a JSON request body once, strictly, before route validation sees it: bytes must be UTF-8, nesting
 * at most `maxDepth` deep, at most `maxEntries` entries, every number exact as written, the text valid JSON (no NaN, Infinity or trailing commas), and no `__proto__`
 * or `constructor.prototype` keys, which could poison prototypes wherever a body is merged into an
 * object. Each is a 400 problem saying which. The text and the parsed value are left where `c.req.json()`
 * and `c.req.text()` find them, so the body is read from the socket once. Other content types pass through for the validator to answer 415.
 */
export function strictJsonBody(
  limits: JsonTextLimits = { maxDepth: MAX_JSON_DEPTH, maxEntries: MAX_JSON_ENTRIES },
): MiddlewareHandler {
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
    const refusal = scanJsonText(text, limits);
    if (refusal === 'too-deep') {
      throw badBody('json-too-deep', `JSON nesting exceeds ${limits.maxDepth} levels.`);
    }
    if (refusal === 'too-many-entries') {
      throw badBody('json-too-many-entries', `JSON has more than ${limits.maxEntries} entries.`);
    }
    if (refusal === 'imprecise-number') {
      throw badBody(
        'imprecise-number',
        'A number in the body cannot be represented exactly (too many digits, or out of range); send it with at most 15 significant digits.',
      );
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
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export interface JsonTextLimits {
  maxDepth: number;
  maxEntries: number;
}

/** What makes a JSON text unacceptable before it is parsed, if anything. */
export type JsonTextRefusal = 'too-deep' | 'too-many-entries' | 'imprecise-number';

const isNumberChar = (ch: number) =>
  (ch >= DIGIT_0 && ch <= DIGIT_9) ||
  ch === 0x2e ||
  ch === 0x65 ||
  ch === 0x45 ||
  ch === 0x2b ||
  ch === MINUS;

/**
 * One pass over the text outside strings, stopping at the first excess: nesting deeper than `maxDepth`,
 * more than `maxEntries` commas (object members and array elements past each container's first), or a
 * number literal that does not survive parsing exactly (see isExactNumberLiteral).
 */
export function scanJsonText(text: string, limits: JsonTextLimits): JsonTextRefusal | null {
  let depth = 0;
  let entries = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i += 1;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) {
      inString = true;
    } else if (ch === COMMA) {
      entries += 1;
      if (entries > limits.maxEntries) return 'too-many-entries';
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      depth += 1;
      if (depth > limits.maxDepth) return 'too-deep';
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth -= 1;
    } else if (ch === MINUS || (ch >= DIGIT_0 && ch <= DIGIT_9)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end += 1;
      if (!isExactNumberLiteral(text.slice(i, end))) return 'imprecise-number';
      i = end - 1;
    }
  }
  return null;
}

/** Whether `{`/`[` outside strings nest deeper than `maxDepth`; one pass, stops at the first excess. */
export const nestingExceeds = (text: string, maxDepth: number): boolean =>
  scanJsonText(text, { maxDepth, maxEntries: Number.POSITIVE_INFINITY }) === 'too-deep';

/** The longest number literal judged at all; anything longer is imprecise by definition here. */
export const MAX_NUMBER_LITERAL_LENGTH = 64;

/** Plain integers this short are always exact doubles: the fast path for ids, quantities and ages. */
const SHORT_INTEGER = /^-?\d{1,15}$/;

/**
 * Whether the number a literal parses to has exactly the digits sent: `1e-400` (which parses to 0) and
 * `0.1000000000000000001` (0.1) are not, so a price is judged on what the client wrote rather than on the
 * double it happened to round to. Trailing zeros and exponent spellings do not matter (`1.50`, `15e-1` and
 * `1.5` are the same number). Literals too large for a double (`1e400`, Infinity) and malformed ones are
 * left to the schema and JSON.parse, which refuse them naming the field.
 */
export function isExactNumberLiteral(literal: string): boolean {
  if (SHORT_INTEGER.test(literal)) return true;
  // No double needs more digits than this to be written exactly (17 significant, plus zeros, sign and
  // exponent); longer literals are refused before any digit work, which would otherwise grow with them.
  if (literal.length > MAX_NUMBER_LITERAL_LENGTH) return false;
  const value = Number(literal);
  if (!Number.isFinite(value)) return true;
  return decimalDigits(literal) === decimalDigits(String(value));
}

/** A decimal literal's significant digits and the power of ten of its first one: `0.0150` → `15e-2`. */
function decimalDigits(literal: string): string {
  const unsigned = literal.startsWith('-') ? literal.slice(1) : literal;
  const [mantissa = '', exponentText = '0'] = unsigned.toLowerCase().split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  const all = whole + fraction;
  const firstNonZero = all.search(/[1-9]/);
  if (firstNonZero === -1) return '0';
  let end = all.length;
  while (end > firstNonZero && all.charCodeAt(end - 1) === 0x30) end -= 1;
  const significant = all.slice(firstNonZero, end);
  const exponent = Number(exponentText) + whole.length - firstNonZero - 1;
  return `${significant}e${exponent}`;
}
