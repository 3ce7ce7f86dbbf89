import type { MiddlewareHandler } from 'hono';

/**
 * Nothing an API answer contains may run, load or be framed: JSON and problem bodies opened in a browser
 * stay inert.
 */
export const API_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Swagger UI at /docs: scripts, styles, fonts and images only from this origin (its assets are served
 * here), `data:` images for the icons its stylesheet embeds, and requests ("Try it out") to this origin.
 * No inline script or style: React sets styles through the CSSOM, which style-src does not govern. The
 * browser test fails on any violation.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const COMMON_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['Origin-Agent-Cluster', '?1'],
];

const isDocsPath = (path: string) => path === '/docs' || path.startsWith('/docs/');

/**
 * Standard security headers on every response (probes included). Set on the context before the handler
 * runs rather than on the finished Response: reading `c.res.headers` afterwards turns @hono/node-server's
 * lightweight response into a full Fetch Response and takes it off its fast write path, which measured
 * (`npm run bench`) as a large share of a probe's cost. Every answer here is built through the context
 * (`c.json`, `c.body`, the problem helpers), so each one carries them. `/docs` gets the policy Swagger UI
 * needs; everything else the API policy.
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    for (const [name, value] of COMMON_HEADERS) c.header(name, value);
    c.header(
      'Content-Security-Policy',
      isDocsPath(c.req.path) ? DOCS_CONTENT_SECURITY_POLICY : API_CONTENT_SECURITY_POLICY,
    );
    await next();
  };
}
