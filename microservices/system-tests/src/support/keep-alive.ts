import { Agent, request } from 'node:http';
import type { Send } from '@microservices/service-kit/testing';

export interface KeepAliveSend {
  /** A `Send` for `createCheckedClient` that goes through one persistent connection. */
  send: Send;
  /** For each request so far, whether it went over an already-used connection. */
  reusedSocket: () => readonly boolean[];
  /** Closes the pooled connection. */
  close: () => void;
}

const NO_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Sends every request over a single keep-alive connection (node:http Agent, one socket), like a client
 * behind a connection pool, and records whether each request reused it.
 */
export function keepAliveSend(baseUrl: string): KeepAliveSend {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const reused: boolean[] = [];
  const send: Send = (path, init) =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(path, baseUrl),
        {
          method: init.method ?? 'GET',
          headers: Object.fromEntries(new Headers(init.headers).entries()),
          agent,
        },
        (res) => {
          reused.push(req.reusedSocket);
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('error', reject);
          res.once('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const v of Array.isArray(value) ? value : [value ?? '']) headers.append(name, v);
            }
            const status = res.statusCode ?? 0;
            resolve(
              new Response(NO_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), { status, headers }),
            );
          });
        },
      );
      req.once('error', reject);
      if (typeof init.body === 'string' || init.body instanceof Uint8Array) req.end(init.body);
      else req.end();
    });
  return { send, reusedSocket: () => reused, close: () => agent.destroy() };
}
