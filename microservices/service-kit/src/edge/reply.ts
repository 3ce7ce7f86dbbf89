import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { InvalidJSONValue, JSONParsed, JSONValue } from 'hono/utils/types';
import { isNeverShed } from '../base/surfaces.js';
import type { AppEnv } from './app-env.js';
import { answerHeaders, type ResponseHeaderRecord } from './envelope.js';
import { chargedBytes, isSafeMethod, LARGE_ANSWER_BYTES, reserveAnswerOrRefuse } from './unsent-answers.js';

/** Answers built here already carry the envelope's headers; requestEdge adds them to any other answer. */
const builtHere = new WeakSet<Response>();

export const carriesStandardHeaders = (res: Response): boolean => builtHere.has(res);

const JSON_CONTENT_TYPE = 'application/json';

/**
 * A string body that may be over LARGE_ANSWER_BYTES, encoded to UTF-8 once: measured, charged and sent as
 * a string, a 776 KB page was encoded four times over (5 ms of a listing's 20 on Node 20).
 */
const encodedIfLarge = (body: string): string | Buffer<ArrayBuffer> =>
  body.length * 3 > LARGE_ANSWER_BYTES ? Buffer.from(body, 'utf8') : body;

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
  const sent = typeof body === 'string' ? encodedIfLarge(body) : body;
  if (sent instanceof Uint8Array && isSafeMethod(c.req.method) && !isNeverShed(c.req.path)) {
    reserveAnswerOrRefuse(c, chargedBytes(sent));
  }
  const headers = answerHeaders(c, sent === null ? undefined : contentType, extra);
  const res = new Response(sent, { status, headers });
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
