import { connect as connectSocket, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { type HttpServerOptions, type RunningServer, startHttpServer } from '../boot/server/http-server.js';

/**
 * For kit tests of the HTTP server: servers on 127.0.0.1 and raw client sockets, all closed after each
 * test. Call once at a test file's top level.
 */
export function useLoopbackServers() {
  const running: RunningServer[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(
      running.splice(0).map(async ({ server, closeProbes }) => {
        server.closeAllConnections();
        await closeProbes();
        await new Promise((resolve) => server.close(resolve));
      }),
    );
  });
  const connect = (port: number): Socket => {
    const socket = connectSocket({ host: '127.0.0.1', port });
    sockets.push(socket);
    return socket;
  };
  return {
    /** startHttpServer on a free loopback port, with a registry of its own unless given one. */
    async start(
      fetch: HttpServerOptions['fetch'],
      options: Partial<HttpServerOptions> = {},
    ): Promise<RunningServer & { registry: Registry }> {
      const registry = options.registry ?? new Registry();
      const started = await startHttpServer({
        fetch,
        port: 0,
        host: '127.0.0.1',
        keepAliveTimeoutMs: 5_000,
        registry,
        ...options,
      });
      running.push(started);
      return { ...started, registry };
    },
    /** A raw client connection, destroyed after the test. */
    connect,
    /** A raw connection that collects what the server sends and settles `closed` (after how many ms) when it closes. */
    open(port: number) {
      const socket = connect(port);
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => {
        const started = performance.now();
        socket.once('close', () => resolve(performance.now() - started));
      });
      return { socket, text: () => text, closed };
    },
  };
}
