import { connect, type Socket } from 'node:net';
import { LOOPBACK } from '../../support/processes.js';

/** How a held connection ended, seen from the client. */
export interface Ending {
  /** Milliseconds from opening to close. */
  afterMs: number;
  /** The error that ended it (ECONNRESET …), if any. */
  error?: string;
  /** Everything the server sent. */
  received: string;
}

export interface HeldSocket {
  socket: Socket;
  /** Whether the connection was established (false: refused or reset before connecting). */
  connected: boolean;
  ended: Promise<Ending>;
  received: () => string;
}

/**
 * Opens a connection to 127.0.0.1:`port` and writes `initial` (if any). With `read: false` the client
 * never reads, so the server's answers pile up in its send buffer. Resolves once connected (or failed).
 */
export function openSocket(
  port: number,
  initial?: string | Buffer,
  options: { read?: boolean } = {},
): Promise<HeldSocket> {
  const started = performance.now();
  const socket = connect({ host: LOOPBACK, port });
  const chunks: Buffer[] = [];
  let error: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error = err.code ?? err.message;
  });
  if (options.read !== false) socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = () => Buffer.concat(chunks).toString('latin1');
  const ended = new Promise<Ending>((resolve) => {
    socket.once('close', () =>
      resolve({ afterMs: performance.now() - started, ...(error ? { error } : {}), received: received() }),
    );
  });
  return new Promise((resolve) => {
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      if (options.read === false) socket.pause();
      if (initial !== undefined) socket.write(initial);
      resolve({ socket, connected, ended, received });
    });
    socket.once('close', () => {
      if (!connected) resolve({ socket, connected, ended, received });
    });
  });
}

/**
 * Opens `count` connections, `batch` at a time (a connect storm of thousands is not the point here),
 * `pauseMs` apart.
 */
export async function openSockets(
  count: number,
  port: number,
  initial?: (i: number) => string | Buffer | undefined,
  options: { read?: boolean; batch?: number; pauseMs?: number } = {},
): Promise<HeldSocket[]> {
  const held: HeldSocket[] = [];
  const batch = options.batch ?? 50;
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    held.push(
      ...(await Promise.all(
        Array.from({ length: size }, (_, j) => openSocket(port, initial?.(i + j), options)),
      )),
    );
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return held;
}

/** The status codes of every HTTP response in `text`, in order. */
export const statusesIn = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));

/** The first response's header block and body (Content-Length framed), for problem assertions. */
export function firstResponse(text: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, Math.max(0, end)).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]),
    headers,
    body: Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString('utf8'),
  };
}

/** Destroys every socket and waits until all have closed. */
export async function closeAll(held: readonly HeldSocket[]): Promise<Ending[]> {
  for (const h of held) h.socket.destroy();
  return Promise.all(held.map((h) => h.ended));
}
