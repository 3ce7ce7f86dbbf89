/**
 * The hostile-input catalogue of the fuzzer: the fixed odd values request-mutations.ts and
 * request-arbitraries.ts mix into otherwise valid requests. Each list is one place of the request; add a
 * case here and every operation of both services is tried with it. (The hand-written cases with a specific
 * expected answer each are in hostile-input.test.ts.)
 */

/** Methods a client may try on any path. */
export const METHODS_TO_TRY = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Path parameter values and extra segments, as sent (already percent-encoded). */
export const ODD_SEGMENTS = [
  '%00',
  '%2F',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%ZZ',
  '%',
  '%20',
  ';',
  '-1',
  '0',
  'null',
  'undefined',
  'NaN',
  "1'%20OR%20'1'%3D'1",
  '%3Cscript%3E',
  '%F0%9F%98%80',
  '%C0%AF',
  '%FF',
  'a'.repeat(4096),
];

/** Other spellings of a documented path, which must not reach another route. */
export const PATH_SPELLINGS: Readonly<Record<string, (pathname: string) => string>> = {
  'trailing slash': (pathname) => `${pathname}/`,
  'upper case': (pathname) => pathname.toUpperCase(),
  'double slash': (pathname) => pathname.replace(/^(\/[^/]*)\//, '$1//'),
};

/** Query values, as sent (already percent-encoded), for declared and unknown parameters. */
export const ODD_QUERY_VALUES = [
  '',
  'abc',
  '-1',
  '1.5',
  '1e3',
  '%20',
  '0x10',
  'NaN',
  'Infinity',
  '-0',
  '99999999999999999999999',
  'null',
  'true',
  '[]',
  '%00',
  '%ZZ',
  '%',
  '1%2C2',
  'a'.repeat(2000),
];

/** Common request headers that get an odd value. */
export const ODD_VALUED_HEADERS = [
  'accept',
  'x-request-id',
  'accept-encoding',
  'content-language',
  'x-forwarded-for',
];

export const ODD_HEADER_VALUES = [
  'application/xml',
  '*/*',
  'é',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  'x'.repeat(8192),
];

/** JSON bodies sent to operations that take none. */
export const UNEXPECTED_BODIES = ['{}', '{"a":1}', '[]', 'not json'];

/** Bodies labelled application/json that are not one JSON text (or are JSON of the wrong kind). */
export const NOT_JSON = [
  '',
  '{',
  '{"a":',
  'nul',
  "{'name':'x'}",
  '{"a":1}}',
  '[1,2',
  '\u0000',
  'undefined',
  'NaN',
  '{"a":1,}',
  '{"a":01}',
  '{"a":"\\x41"}',
  '<xml/>',
  'a=1&b=2',
  'null',
  '[]',
  '0',
  '"text"',
];

/** Rewrites of a valid JSON text that a lenient or careless parser might treat differently. */
export const JSON_TEXT_ODDITIES: ReadonlyArray<(text: string) => string> = [
  (t) => `\uFEFF${t}`,
  (t) => ` \n\t${t}\n `,
  (t) =>
    t === '{}' ? '{"__proto__":{"polluted":"yes"}}' : t.replace(/^\{/, '{"__proto__":{"polluted":"yes"},'),
  (t) =>
    t === '{}'
      ? '{"constructor":{"prototype":{"polluted":"yes"}}}'
      : t.replace(/^\{/, '{"constructor":{"prototype":{"polluted":"yes"}},'),
  (t) => (t.startsWith('{') && t !== '{}' ? `${t.slice(0, -1)},${t.slice(1)}` : t),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':1e400'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':-0'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':123456789012345678901234567890'),
  (t) => t.replace(/:-?\d+(\.\d+)?(?=[,}\]])/, ':0.1e1'),
];

/** Content types a valid JSON body is sent with instead of application/json. */
export const OTHER_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json, text/plain',
  'application/jsonx',
  '',
  // Sent as bytes, so fetch adds no Content-Type at all.
  'none',
];

/** Byte sequences that are not UTF-8 (a lone 0xFF, an overlong '/', a surrogate, a UTF-16 BOM). */
export const NOT_UTF8_SEQUENCES: ReadonlyArray<readonly number[]> = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xfe, 0xff],
];

export type NestedShape = 'array' | 'object' | 'wide';
export const NESTED_SHAPES: readonly NestedShape[] = ['array', 'object', 'wide'];
/** Nesting depths (a tenth of it as keys, for `wide`). */
export const NESTED_SIZES = [64, 5_000, 100_000];

/** A JSON text nested `n` deep (`array`, `object`) or with `n` keys (`wide`). */
export function nested(kind: NestedShape, n: number): string {
  if (kind === 'array') return `${'['.repeat(n)}${']'.repeat(n)}`;
  if (kind === 'object') return `${'{"a":'.repeat(n)}0${'}'.repeat(n)}`;
  return `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
}

/** Lengths of a name in a body past the 1 MiB body limit. */
export const OVERSIZED_NAME_LENGTHS = [1_048_577, 1_200_000, 3_000_000];

export const oversizedBody = (length: number) => `{"name":"${'a'.repeat(length)}"}`;

/** Paths the documents do not have, or reach only after normalisation. */
export const UNKNOWN_PATHS = [
  '/api',
  '/api/v1',
  '/api/v2/users',
  '/API/V1/USERS',
  '/.env',
  '/admin',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/api/v1/users/../../openapi.json',
  '/index.php',
  '//',
  '/%00',
  '/%',
  '/favicon.ico',
  '/health/../metrics',
  '/docs/assets/swagger-ui-dist/..%2f..%2fpackage.json',
  '/docs/assets/swagger-ui-dist/../../../package.json',
  '/api/v1/users;jsessionid=1',
];

/** Segments random unknown paths are made of, beside random text. */
export const UNKNOWN_PATH_SEGMENTS = [
  'api',
  'v1',
  'users',
  'orders',
  'user',
  'health',
  'docs',
  'assets',
  '..',
  '.',
  '%2e',
];
