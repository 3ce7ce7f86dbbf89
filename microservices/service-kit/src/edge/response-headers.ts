import { API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY, isDocsPath } from './security-headers.js';

/** Response headers as a plain record; see standardResponseHeaders for why not a Fetch `Headers`. */
export type ResponseHeaderRecord = Record<string, string>;

/**
 * The headers every answer carries: the request id, the standard security headers (the CSP `/docs` needs,
 * the API's everywhere else), `Cache-Control: no-store` on `/api/*` (personal data), and `Connection: close`
 * once shutdown has begun (see requestEdge).
 *
 * A plain record, written by the kit's reply helpers straight into the response: @hono/node-server then
 * hands it to Node as is. Setting the same headers with `c.header()` builds a Fetch `Headers` object per
 * request, which `npm run bench` measured as the largest single cost of a probe.
 */
export function standardResponseHeaders(
  requestId: string,
  path: string,
  draining: boolean,
): ResponseHeaderRecord {
  const headers: ResponseHeaderRecord = {
    'X-Request-Id': requestId,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
    'X-Permitted-Cross-Domain-Policies': 'none',
    'Origin-Agent-Cluster': '?1',
    'Content-Security-Policy': isDocsPath(path) ? DOCS_CONTENT_SECURITY_POLICY : API_CONTENT_SECURITY_POLICY,
  };
  // Users and orders carry names, emails and addresses: no shared or browser cache may keep them.
  if (path.startsWith('/api/')) headers['Cache-Control'] = 'no-store';
  if (draining) headers.Connection = 'close';
  return headers;
}

/**
 * Adds the headers a response does not already have (the slow path, for answers not built by the kit).
 * `Content-Type` is the answer's own: a reply helper may have recorded one for an answer since replaced.
 */
export function addMissingHeaders(target: Headers, headers: ResponseHeaderRecord): void {
  for (const name in headers) {
    if (name !== 'Content-Type' && !target.has(name)) target.set(name, headers[name] as string);
  }
}
