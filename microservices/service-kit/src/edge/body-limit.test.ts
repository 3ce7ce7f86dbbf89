import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../boot/server/http-server.js';
import { requestBodyLimit } from './body-limit.js';

const LIMIT = 1_024;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** The middleware in front of an echo route, on a real @hono/node-server (the server it is tuned for). */
async function start() {
  const app = new Hono();
  app.use('*', requestBodyLimit({ maxSize: LIMIT, onError: (c) => c.text('too large', 413) }));
  app.get('/echo', (c) => c.text('got nothing'));
  app.post('/echo', async (c) => c.text(`got ${(await c.req.text()).length} bytes`));
  const { server, port } = await startHttpServer({
    fetch: app.fetch,
    port: 0,
    host: '127.0.0.1',
    keepAliveTimeoutMs: 5_000,
    // As start-service.ts wires it: the server knows the limit, so a body over it is never waited for.
    limits: { bodyLimitBytes: LIMIT },
  });
  servers.push(server);
  return port;
}

interface Sent {
  method: string;
  headers?: Record<string, string>;
  /** Chunks written one by one; with no Content-Length header node sends them chunked. */
  chunks?: string[];
  /** Leave the request body unfinished: only an answer from the headers alone can arrive. */
  keepOpen?: boolean;
}

function send(port: number, { method, headers = {}, chunks = [], keepOpen = false }: Sent) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/echo', method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text });
        req.destroy();
      });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    if (!keepOpen) req.end();
    else req.flushHeaders();
  });
}

describe('requestBodyLimit', () => {
  it('when a GET arrives, then it passes through', async () => {
    const port = await start();
    expect(await send(port, { method: 'GET' })).toEqual({ status: 200, text: 'got nothing' });
  });

  it('when Content-Length is over the limit, then it answers from the header without waiting for the body', async () => {
    const port = await start();
    const res = await send(port, {
      method: 'POST',
      headers: { 'Content-Length': String(LIMIT + 1) },
      keepOpen: true,
    });
    expect(res).toEqual({ status: 413, text: 'too large' });
  });

  it('when Content-Length is within the limit, then the handler reads the whole body', async () => {
    const port = await start();
    const body = 'x'.repeat(LIMIT);
    const res = await send(port, {
      method: 'POST',
      headers: { 'Content-Length': String(LIMIT) },
      chunks: [body],
    });
    expect(res).toEqual({ status: 200, text: `got ${LIMIT} bytes` });
  });

  it('when a chunked body grows past the limit, then it answers 413', async () => {
    const port = await start();
    const res = await send(port, { method: 'POST', chunks: ['x'.repeat(LIMIT), 'x'] });
    expect(res).toEqual({ status: 413, text: 'too large' });
  });

  it('when a chunked body stays within the limit, then the handler reads the whole body', async () => {
    const port = await start();
    const res = await send(port, { method: 'POST', chunks: ['x'.repeat(LIMIT / 2), 'x'.repeat(LIMIT / 2)] });
    expect(res).toEqual({ status: 200, text: `got ${LIMIT} bytes` });
  });
});
