import type { Context } from 'hono';
import { type Surface, surfaceOf } from '../base/surfaces.js';
import type { AppEnv } from './app-env.js';
import { API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY } from './security-headers.js';

/** Response headers as a plain record; see StandardHeaders for why not a Fetch `Headers`. */
export type ResponseHeaderRecord = Record<string, string>;

/**
 * The headers every answer of one request carries, as a maker of fresh records: the request id, the
 * standard security headers (the CSP `/docs` needs, the API's everywhere else), `Cache-Control: no-store`
 * on `/api/*` (personal data), and `Connection: close` once shutdown has begun (see requestEdge).
 *
 * The edge picks one maker per request from six built at load (surface × draining; picking allocates
 * nothing), and every answer calls it for a record of its own: no answer ever writes into a record another
 * answer (or a discarded one) sees. Each record is an object literal, which V8 builds at the cost of one
 * allocation; copying a shared record with a spread measured 10 to 300 times slower.
 *
 * The record goes straight into the response: @hono/node-server hands it to Node as is. Setting the same
 * headers with `c.header()` on an answer builds a Fetch `Headers` object per request, which `npm run bench`
 * measured as the largest single cost of a probe.
 */
export type StandardHeaders = (requestId: string) => ResponseHeaderRecord;

function standardHeadersMaker(csp: string, noStore: boolean, draining: boolean): StandardHeaders {
  return (requestId) => {
    const headers: ResponseHeaderRecord = {
      'X-Request-Id': requestId,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
      'X-Permitted-Cross-Domain-Policies': 'none',
      'Origin-Agent-Cluster': '?1',
      'Content-Security-Policy': csp,
    };
    // Users and orders carry names, emails and addresses: no shared or browser cache may keep them.
    if (noStore) headers['Cache-Control'] = 'no-store';
    if (draining) headers.Connection = 'close';
    return headers;
  };
}

const MAKERS = {
  api: [
    standardHeadersMaker(API_CONTENT_SECURITY_POLICY, true, false),
    standardHeadersMaker(API_CONTENT_SECURITY_POLICY, true, true),
  ],
  docs: [
    standardHeadersMaker(DOCS_CONTENT_SECURITY_POLICY, false, false),
    standardHeadersMaker(DOCS_CONTENT_SECURITY_POLICY, false, true),
  ],
  other: [
    standardHeadersMaker(API_CONTENT_SECURITY_POLICY, false, false),
    standardHeadersMaker(API_CONTENT_SECURITY_POLICY, false, true),
  ],
} as const;

/** The maker of the standard headers for answers on `surface`. */
export function standardHeadersFor(surface: Surface, draining: boolean): StandardHeaders {
  const pair = surface === 'api' ? MAKERS.api : surface === 'docs' ? MAKERS.docs : MAKERS.other;
  return pair[draining ? 1 : 0];
}

/**
 * Installs the request's header envelope on the context: the standard headers' maker, and a `c.header()`
 * that works with the kit's reply helpers. Hono's own `c.header()` before the answer exists writes into a
 * Fetch `Headers` that only Hono's `c.json`/`c.body` read, so a header a middleware set before `next()`
 * was silently missing from every kit reply. Here it is kept in the request's added-header record (made
 * only when a header is added, so a request without one allocates nothing), which every answer copies:
 * kit replies merge it, and the edge adds it to any other answer. Once the answer exists (a middleware
 * after `next()`), `c.header()` writes on that answer's own headers, as Hono's does.
 */
export function installEnvelope(c: Context<AppEnv>, standard: StandardHeaders): void {
  c.set('standardHeaders', standard);
  (c as { header: HeaderSetter }).header = headerOnEnvelope;
}

type HeaderSetter = (name: string, value?: string, options?: { append?: boolean }) => void;

function headerOnEnvelope(
  this: Context<AppEnv>,
  name: string,
  value?: string,
  options?: { append?: boolean },
): void {
  if (this.finalized) {
    const target = this.res.headers;
    if (value === undefined) target.delete(name);
    else if (options?.append) target.append(name, value);
    else target.set(name, value);
    return;
  }
  const key = name.toLowerCase();
  if (key === 'set-cookie' && options?.append) {
    // A plain record holds one value per name, and Set-Cookie values cannot be joined: refuse rather than drop.
    throw new Error(
      'c.header("Set-Cookie", …, { append: true }) before the answer is not supported by the kit',
    );
  }
  let added = this.get('addedHeaders');
  if (value === undefined) {
    if (added) delete added[key];
    return;
  }
  if (!added) {
    added = {};
    this.set('addedHeaders', added);
  }
  const before = added[key];
  added[key] = options?.append && before !== undefined ? `${before}, ${value}` : value;
}

/**
 * A fresh record for one answer: the standard headers, the headers middleware added before the answer,
 * `contentType`, then `extra` (the answer's own, which win). Outside a service app (no edge ran) the
 * standard headers are derived from the path, without a request id.
 */
export function answerHeaders(
  c: Context<AppEnv>,
  contentType: string | undefined,
  extra: Readonly<ResponseHeaderRecord> | undefined,
): ResponseHeaderRecord {
  const standard = c.get('standardHeaders');
  let headers: ResponseHeaderRecord;
  if (standard) {
    headers = standard(c.get('requestId'));
  } else {
    headers = standardHeadersFor(surfaceOf(c.req.path), false)('');
    delete headers['X-Request-Id'];
  }
  const added = c.get('addedHeaders');
  if (added) replaceHeaders(headers, added);
  if (contentType !== undefined) headers['Content-Type'] = contentType;
  if (extra) {
    if (added) replaceHeaders(headers, extra);
    else Object.assign(headers, extra);
  }
  return headers;
}

/**
 * Writes `source` over `headers`, replacing a header of the same name whatever its case (Node would send
 * both). Only answers to requests a middleware added headers to take this path.
 */
function replaceHeaders(headers: ResponseHeaderRecord, source: Readonly<ResponseHeaderRecord>): void {
  for (const name in source) {
    const key = name.toLowerCase();
    for (const existing in headers) if (existing.toLowerCase() === key) delete headers[existing];
    headers[name] = source[name] as string;
  }
}

/**
 * Adds the envelope's headers a response does not already have (the slow path, for answers not built by
 * the kit's reply helpers: Hono's own, `c.redirect`, anything a handler built itself).
 */
export function addMissingHeaders(target: Headers, c: Context<AppEnv>): void {
  const headers = answerHeaders(c, undefined, undefined);
  for (const name in headers) if (!target.has(name)) target.set(name, headers[name] as string);
}
