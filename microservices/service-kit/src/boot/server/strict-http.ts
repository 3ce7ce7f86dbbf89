import type { IncomingMessage } from 'node:http';
import type { ProblemSlug } from '../../problems/catalogue.js';
import { type ServerRefusal, serverRefusal, targetPath } from './server-answers.js';

export type ParsedRequest = Pick<IncomingMessage, 'httpVersion' | 'headers' | 'rawHeaders' | 'url'>;

export interface StrictRefusal {
  refusal: ServerRefusal;
  /** The connection cannot be trusted past this request (framing or authority in doubt). */
  close: boolean;
}

const refuse = (reason: string, slug: ProblemSlug, detail: string, close: boolean): StrictRefusal => ({
  refusal: serverRefusal(slug, detail, reason),
  close,
});

const TOO_MANY_HEADERS = (max: number) =>
  refuse('too_many_headers', 'headers-too-large', `A request may carry at most ${max} header fields.`, true);
const DUPLICATE_HOST = refuse(
  'duplicate_host',
  'duplicate-host',
  'The request carries more than one Host header.',
  true,
);
const MISSING_HOST = refuse(
  'missing_host',
  'missing-host',
  'An HTTP/1.1 request must carry a Host header.',
  true,
);
const CHUNKED_HTTP10 = refuse(
  'transfer_encoding_http10',
  'transfer-encoding-http10',
  'Transfer-Encoding is not defined for HTTP/1.0; the connection is closed.',
  true,
);
const DOT_SEGMENT = refuse(
  'dot_segment',
  'invalid-path',
  'The path contains a "." or ".." segment (plain or percent-encoded).',
  false,
);

/**
 * A `.` or `..` segment once `%2e` is decoded, as URL parsing resolves them (it treats `\` as `/` in
 * http URLs, and leaves `%2F` alone: `..%2F..` is one segment, an id that merely contains dots and
 * slashes, and its route gets it verbatim).
 */
export function hasDotSegment(path: string): boolean {
  // The hot path: nearly every API path has neither a dot nor a percent sign.
  if (!path.includes('.') && !path.includes('%')) return false;
  const decoded = path.replace(/%2e/gi, '.');
  return decoded.split(/[/\\]/).some((segment) => segment === '.' || segment === '..');
}

/**
 * What Node's parser lets through and this server refuses (issue 13, "stricter HTTP where Node is
 * lenient"): more header fields than `maxHeaderFields` (Node would silently drop the excess), no Host or
 * more than one, Transfer-Encoding on HTTP/1.0 (a smuggling classic: a proxy may frame the body
 * differently), and dot segments in the path, which URL parsing would resolve (`/a/%2e%2e/b` is `/b`),
 * so a prefix check upstream would see one path and the router another.
 */
export function strictHttpRefusal(req: ParsedRequest, maxHeaderFields: number): StrictRefusal | undefined {
  const raw = req.rawHeaders;
  if (raw.length / 2 > maxHeaderFields) return TOO_MANY_HEADERS(maxHeaderFields);
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
  }
  if (hosts > 1) return DUPLICATE_HOST;
  if (hosts === 0 && req.httpVersion === '1.1') return MISSING_HOST;
  if (req.httpVersion === '1.0' && req.headers['transfer-encoding'] !== undefined) return CHUNKED_HTTP10;
  if (hasDotSegment(targetPath(req.url))) return DOT_SEGMENT;
  return undefined;
}
