import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { surfaceOf } from '../../base/surfaces.js';
import { standardHeadersFor } from '../../edge/envelope.js';
import { resolveRequestId } from '../../edge/request-id.js';
import { type ProblemSlug, problemType } from '../../problems/catalogue.js';
import { PROBLEM_CONTENT_TYPE, problemTypeUri } from '../../problems/problem-schemas.js';

/** A problem the server answers itself, before (or instead of) the app. */
export interface ServerRefusal {
  /** The catalogue's status for `slug`. */
  status: number;
  /** The catalogue's title for `slug`. */
  title: string;
  /** The problem type slug (`urn:problem-type:<slug>`). */
  slug: ProblemSlug;
  detail: string;
  /** The `reason` label of `http_server_refusals_total`. */
  reason: string;
}

/** The refusal of a problem of type `slug`, its status and title from the catalogue. */
export function serverRefusal(slug: ProblemSlug, detail: string, reason: string): ServerRefusal {
  const { status, title } = problemType(slug);
  return { status, title, slug, detail, reason };
}

/** The path part of a request target, without the query: what `instance` names. */
export const targetPath = (url: string | undefined): string => {
  const target = url ?? '/';
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
};

function problemText(refusal: ServerRefusal, instance?: string, requestId?: string): string {
  return JSON.stringify({
    type: problemTypeUri(refusal.slug),
    title: refusal.title,
    status: refusal.status,
    detail: refusal.detail,
    ...(instance === undefined ? {} : { instance }),
    ...(requestId === undefined ? {} : { request_id: requestId }),
  });
}

/**
 * Answers `refusal` on a request Node has parsed, through its ServerResponse (so pipelined answers stay in
 * order), with the headers every answer carries. `close` ends the connection after it: for requests whose
 * framing or authority is in doubt.
 */
export function answerRequest(
  req: IncomingMessage,
  res: ServerResponse,
  refusal: ServerRefusal,
  options: { close: boolean; retryAfterSeconds?: number },
): void {
  const header = req.headers['x-request-id'];
  const { id } = resolveRequestId(typeof header === 'string' ? header : undefined);
  const path = targetPath(req.url);
  const body = problemText(refusal, path, id);
  const headers: Record<string, string> = {
    ...standardHeadersFor(surfaceOf(path), false)(id),
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(body)),
  };
  if (options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(options.retryAfterSeconds);
  if (options.close) headers.Connection = 'close';
  res.writeHead(refusal.status, refusal.title, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Answers `refusal` straight onto the socket and ends it: for what Node's parser refused or timed out,
 * where there is no request object. Nothing is written when an answer has already begun on this socket
 * (the bytes would land inside it).
 */
export function answerSocket(socket: Duplex, refusal: ServerRefusal, answerStarted: boolean): void {
  if (answerStarted || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = problemText(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.title}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'X-Content-Type-Options: nosniff\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
