import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemTypeUri } from '../errors/problem.js';

interface ParserRefusal {
  status: number;
  reason: string;
  slug: string;
  detail: string;
}

const TOO_LARGE: ParserRefusal = {
  status: 431,
  reason: 'Request Header Fields Too Large',
  slug: 'headers-too-large',
  detail: 'Request headers are too large.',
};
const TIMEOUT: ParserRefusal = {
  status: 408,
  reason: 'Request Timeout',
  slug: 'request-timeout',
  detail: 'The request was not received in time.',
};
const MALFORMED: ParserRefusal = {
  status: 400,
  reason: 'Bad Request',
  slug: 'malformed-http',
  detail: 'The request is not valid HTTP/1.1 (for example a control character in a header).',
};

function refusalFor(code: string | undefined): ParserRefusal {
  if (code === 'HPE_HEADER_OVERFLOW') return TOO_LARGE;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return TIMEOUT;
  return MALFORMED;
}

/**
 * Requests Node's HTTP parser rejects never reach the app (a CR or NUL in a header value, a bad
 * Content-Length, oversized headers). Node's default answer is a bare status line; this answers the same
 * status with a problem+json body like every other refusal, then closes the connection.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = refusalFor(err.code);
    const body = JSON.stringify({
      type: problemTypeUri(refusal.slug),
      title: refusal.reason,
      status: refusal.status,
      detail: refusal.detail,
    });
    socket.end(
      `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
