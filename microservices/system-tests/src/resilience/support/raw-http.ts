import { connect } from 'node:net';
import { LOOPBACK } from '../../support/processes.js';

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, for assertions that nothing was smuggled into the header block. */
  raw: string;
}

/**
 * Writes `request` byte for byte to 127.0.0.1:`port` and reads until the server closes the connection
 * (requests should say `Connection: close`). For input fetch and undici refuse to send: bare CR or LF in
 * a header, invalid UTF-8 in a path, lying Content-Length. Bounded by `timeoutMs`.
 */
export function sendRaw(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer from ${LOOPBACK}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    let failure: NodeJS.ErrnoException | undefined;
    socket.on('data', (chunk) => chunks.push(chunk));
    // A server may answer early (413) and close while the request is still being written: EPIPE or a
    // reset on our side is then expected, and the answer it sent is what counts.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const received = Buffer.concat(chunks).toString('latin1');
      if (received === '' && failure) {
        reject(failure);
        return;
      }
      try {
        resolve(parseResponse(received));
      } catch (err) {
        reject(err);
      }
    });
    socket.write(request);
  });
}

function parseResponse(raw: string): RawResponse {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.slice(0, headerEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = raw.slice(headerEnd + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** A complete HTTP/1.1 request with `Connection: close`; `body` gets an exact Content-Length. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Buffer {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (payload) lines.push(`Content-Length: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return payload ? Buffer.concat([head, payload]) : head;
}
