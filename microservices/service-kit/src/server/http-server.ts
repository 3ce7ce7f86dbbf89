import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { answerClientErrorsWithProblems } from './client-errors.js';

export interface HttpServerOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  host: string;
  /** Must outlive any load balancer's idle timeout (60 s on most) so it never reuses a socket we closed. */
  keepAliveTimeoutMs: number;
}

export interface RunningServer {
  server: Server;
  port: number;
}

/** Starts listening and resolves once the port is bound (port 0 picks a free one). */
export function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: options.fetch, port: options.port, hostname: options.host }) as Server;
    server.keepAliveTimeout = options.keepAliveTimeoutMs;
    // Node requires headersTimeout > keepAliveTimeout or idle sockets can be cut mid-request.
    server.headersTimeout = options.keepAliveTimeoutMs + 1_000;
    server.requestTimeout = 30_000;
    answerClientErrorsWithProblems(server);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
