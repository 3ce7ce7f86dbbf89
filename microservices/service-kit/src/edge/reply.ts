import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { InvalidJSONValue, JSONParsed, JSONValue } from 'hono/utils/types';
import type { AppEnv } from './app-env.js';
import { type ResponseHeaderRecord, standardResponseHeaders } from './response-headers.js';

/** Answers built here already carry the standard headers; requestEdge adds them to any other answer. */
const builtHere = new WeakSet<Response>();

export const carriesStandardHeaders = (res: Response): boolean => builtHere.has(res);

const JSON_CONTENT_TYPE = 'application/json';

/** This request's standard header record (requestEdge prepares it), or a fresh one outside the edge. */
function headersFor(c: Context<AppEnv>): ResponseHeaderRecord {
  const prepared = c.get('responseHeaders');
  if (prepared) return prepared;
  const requestId = c.get('requestId');
  const headers = standardResponseHeaders(requestId ?? '', c.req.path, false);
  if (requestId === undefined) delete headers['X-Request-Id'];
  return headers;
}

/**
 * An answer with the standard headers, `contentType` (unless the body is empty) and `extra` headers, built
 * without a Fetch `Headers` object (see standardResponseHeaders). Use it, or replyJson, for every answer
 * on a hot path; headers set with `c.header()` before the handler are not carried by it.
 */
export function reply(
  c: Context<AppEnv>,
  body: string | Uint8Array<ArrayBuffer> | null,
  status: StatusCode,
  contentType?: string,
  extra?: Readonly<ResponseHeaderRecord>,
): Response {
  const headers = headersFor(c);
  if (contentType !== undefined && body !== null) headers['Content-Type'] = contentType;
  if (extra) Object.assign(headers, extra);
  const res = new Response(body, { status, headers });
  builtHere.add(res);
  return res;
}

/**
 * Adds a header to this request's answer whichever way it is built; for middleware running before the
 * handler, where `c.header()` would be lost on an answer built by reply().
 */
export function addResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  const headers = c.get('responseHeaders');
  if (headers) headers[name] = value;
  else c.header(name, value);
}

/**
 * `c.json()` with the standard headers, typed from the route's documented responses like `c.json()`. A
 * HEAD request (routed to the GET handler) gets the same status and headers without the body being built.
 */
export function replyJson<T extends JSONValue | object | InvalidJSONValue, U extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  body: T,
  status: U,
  extra?: Readonly<ResponseHeaderRecord>,
): Response & TypedResponse<JSONParsed<T>, U, 'json'> {
  const answer =
    c.req.method === 'HEAD'
      ? reply(c, null, status, undefined, { ...extra, 'Content-Type': JSON_CONTENT_TYPE })
      : reply(c, JSON.stringify(body), status, JSON_CONTENT_TYPE, extra);
  return answer as Response & TypedResponse<JSONParsed<T>, U, 'json'>;
}
