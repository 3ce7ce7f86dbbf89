import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { InvalidJSONValue, JSONParsed, JSONValue } from 'hono/utils/types';
import { isNeverShed } from '../base/surfaces.js';
import type { AppEnv } from './app-env.js';
import { answerHeaders, type ResponseHeaderRecord } from './envelope.js';
import { isSafeMethod, LARGE_ANSWER_BYTES, reserveAnswerOrRefuse } from './unsent-answers.js';

/** Answers built here already carry the envelope's headers; requestEdge adds them to any other answer. */
const builtHere = new WeakSet<Response>();

export const carriesStandardHeaders = (res: Response): boolean => builtHere.has(res);

const JSON_CONTENT_TYPE = 'application/json';

/** A body's UTF-8 bytes when it may be over LARGE_ANSWER_BYTES; 0 when its length alone rules that out. */
const bytesIfLarge = (body: string): number =>
  body.length * 3 > LARGE_ANSWER_BYTES ? Buffer.byteLength(body) : 0;

/**
 * An answer with the standard headers, those middleware set with `c.header()` before it, `contentType`
 * (unless the body is empty) and `extra` headers, in a header record of its own (see answerHeaders), built
 * without a Fetch `Headers` object. Use it, or replyJson, for every answer: a check fails on `c.json`,
 * `c.body` or `c.text` in a service's handlers (see testing/source-checks.ts). A body over
 * LARGE_ANSWER_BYTES reserves its size in the process's unsent-answer budget, and is a `503 overloaded`
 * instead while that is spent.
 */
export function reply(
  c: Context<AppEnv>,
  body: string | Uint8Array<ArrayBuffer> | null,
  status: StatusCode,
  contentType?: string,
  extra?: Readonly<ResponseHeaderRecord>,
): Response {
  // Only a read is refused here, never a probe or the metrics scrape: a write has happened by the time its
  // answer exists, so handlers that write reserve before writing (reserveAnswerOrRefuse).
  if (typeof body === 'string' && isSafeMethod(c.req.method) && !isNeverShed(c.req.path)) {
    reserveAnswerOrRefuse(c, bytesIfLarge(body));
  }
  const headers = answerHeaders(c, body === null ? undefined : contentType, extra);
  const res = new Response(body, { status, headers });
  builtHere.add(res);
  return res;
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
