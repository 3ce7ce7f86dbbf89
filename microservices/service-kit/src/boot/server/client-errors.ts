import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { recordConnectionCut } from '../../edge/connection-verdict.js';
import { MAX_HEADER_BYTES } from './limits.js';
import { answerSocket, type ServerRefusal, serverRefusal } from './server-answers.js';
import type { ServerMetrics } from './server-metrics.js';
import type { ThrottledLog } from './throttled-log.js';

const TOO_LARGE = serverRefusal(
  'headers-too-large',
  `Request headers are larger than ${MAX_HEADER_BYTES} bytes.`,
  'headers_too_large',
);
const TIMEOUT = serverRefusal('request-timeout', 'The request was not received in time.', 'request_timeout');
const MALFORMED = serverRefusal(
  'malformed-http',
  'The request is not valid HTTP/1.1 (for example a control character in a header).',
  'malformed',
);

function refusalFor(code: string | undefined): ServerRefusal {
  if (code === 'HPE_HEADER_OVERFLOW') return TOO_LARGE;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return TIMEOUT;
  return MALFORMED;
}

export interface ClientErrorOptions {
  metrics: ServerMetrics;
  warn: ThrottledLog;
  /** Told about every connection answered and ended here, so one that never closes is destroyed. */
  ended: (socket: Socket) => void;
}

/**
 * Requests Node's HTTP parser rejects never reach the app (a CR or NUL in a header value, a bad
 * Content-Length, oversized headers), nor do requests past `headersTimeout`/`requestTimeout`. Node's
 * default answer is a bare status line; this answers the same status with a problem+json body like every
 * other refusal, counts it in `http_server_refusals_total`, then ends the connection. A request timeout
 * that strikes while the app reads the body is recorded, so the app logs it as the `408` it is.
 */
export function answerClientErrorsWithProblems(server: Server, options: ClientErrorOptions): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // The client went away (mid-request, too: the parser then reports an unexpected end): nothing to answer.
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = refusalFor(err.code);
    options.metrics.refusals.inc({ reason: refusal.reason, status_code: String(refusal.status) });
    options.warn(
      `refused:${refusal.reason}`,
      { reason: refusal.reason, status: refusal.status, code: err.code },
      `request refused by the server: ${refusal.detail}`,
    );
    if (refusal === TIMEOUT) recordConnectionCut(socket, 408);
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    answerSocket(socket, refusal, current?.headersSent === true);
    options.ended(socket);
  });
}
