import fc from 'fast-check';
import type { Operation } from './openapi-operations.js';

/**
 * One generated HTTP request and the steps that make it: parameter values and a body (Parts) become a
 * Draft with percent-encoded path and query pieces, and the Draft becomes the FuzzRequest that is sent.
 */

/** One generated HTTP request. */
export interface FuzzRequest {
  /** The operation it was made from (`POST /api/v1/users`), or `no operation`. */
  operation: string;
  /** `valid`, or `mutated: <what was broken>`. */
  variant: string;
  method: string;
  /** Path and query exactly as sent: already normalised the way URL parsers do (dot segments, escapes). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Parameter values and body of one request, before serialisation. */
export interface Parts {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  /** undefined: no body. */
  body: unknown;
}

/** A request being built: path and query pieces are already percent-encoded as they will be sent. */
export interface Draft {
  method: string;
  pathname: string;
  query: string[];
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The request on one line, bodies cut short: what a failure report shows. */
export function describeRequest(request: FuzzRequest): string {
  const cut = (text: string, max: number) =>
    text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
  const headers = Object.entries(request.headers).map(([k, v]) => `${k}: ${JSON.stringify(cut(v, 80))}`);
  const { body } = request;
  let shown = '';
  if (typeof body === 'string') {
    shown = ` body=${JSON.stringify(cut(body, 300))}`;
  } else if (body) {
    shown = ` body=<${body.length} bytes: ${Buffer.from(body.subarray(0, 48)).toString('hex')}…>`;
  }
  return `[${request.variant}] ${request.method} ${cut(request.path, 300)} {${headers.join(', ')}}${shown}`;
}

// Lone surrogates (which encodeURIComponent rejects) become U+FFFD, as String#toWellFormed would.
export const encodeSegment = (value: string) => encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD'));

/** What `fetch` accepts as a header value and sends unchanged (it trims surrounding whitespace). */
export const headerSafe = (value: string) =>
  /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(value);

export function withBody(draft: Draft, body: string, contentType: string): Draft {
  return { ...draft, headers: { ...draft.headers, 'content-type': contentType }, body };
}

/** The request `parts` make for `op`; `rawPath` replaces path parameters with already-encoded text. */
export function renderDraft(op: Operation, parts: Parts, rawPath: Record<string, string> = {}): Draft {
  const pathname = op.template.replace(
    /\{([^}]+)\}/g,
    (_, name: string) => rawPath[name] ?? encodeSegment(String(parts.path[name])),
  );
  const query = Object.entries(parts.query).flatMap(([name, value]) => {
    if (value === undefined || value === null) return [];
    const values = Array.isArray(value) ? value : [value];
    return values.map(
      (v) =>
        `${encodeURIComponent(name)}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`,
    );
  });
  const headers = Object.fromEntries(
    Object.entries(parts.headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  const draft: Draft = { method: op.method, pathname, query, headers };
  return parts.body === undefined ? draft : withBody(draft, JSON.stringify(parts.body), 'application/json');
}

/** The request as sent, labelled with its operation and variant; fast-check prints it with describeRequest. */
export function finishRequest(op: Operation, variant: string, draft: Draft): FuzzRequest {
  const search = draft.query.length > 0 ? `?${draft.query.join('&')}` : '';
  // Concatenated, not resolved against a base: "//x" must stay a path, never become a host.
  const url = new URL(
    `http://fuzz.invalid${draft.pathname.startsWith('/') ? '' : '/'}${draft.pathname}${search}`,
  );
  const request: FuzzRequest = {
    operation: `${op.method} ${op.template}`,
    variant,
    method: draft.method,
    path: `${url.pathname}${url.search}`,
    headers: draft.headers,
    ...(draft.body === undefined ? {} : { body: draft.body }),
  };
  Object.defineProperty(request, fc.toStringMethod, { value: () => describeRequest(request) });
  return request;
}
