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
