import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { freePort, LOOPBACK } from './processes.js';

export interface StandIn {
  url: string;
  port: number;
  close: () => Promise<void>;
}

export interface SlowUserService extends StandIn {
  /** Resolves with the path of the first `GET /api/v1/users/:id` as soon as it arrives (before answering). */
  firstLookup: Promise<string>;
}

const USER_PATH = /^\/api\/v1\/users\/([^/?]+)$/;

function closeServer(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A stand-in for user-service on 127.0.0.1 that says every user exists, but only after `delayMs`;
 * `/health/ready` answers at once. For tests that need a request to stay in flight for a known while.
 */
export async function startSlowUserService(delayMs: number): Promise<SlowUserService> {
  const port = await freePort();
  const timers = new Set<NodeJS.Timeout>();
  let lookupArrived: (path: string) => void = () => {};
  const firstLookup = new Promise<string>((resolve) => {
    lookupArrived = resolve;
  });
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/health/ready') return json(200, { status: 'ready' });
    const match = USER_PATH.exec(path);
    if (req.method !== 'GET' || !match?.[1]) return json(404, { detail: 'Not found' });
    const id = decodeURIComponent(match[1]);
    lookupArrived(path);
    const timer = setTimeout(() => {
      timers.delete(timer);
      json(200, { id, name: 'Slow User', email: 'slow@example.com', age: null, created_at: new Date() });
    }, delayMs);
    timers.add(timer);
  };
  const server = createServer(answer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return { url: `http://${LOOPBACK}:${port}`, port, firstLookup, close: () => closeServer(server, timers) };
}

/**
 * A TCP listener on 127.0.0.1 that accepts connections and never answers: a hung upstream, where only
 * timeouts help (a stopped one refuses connections at once).
 */
export async function startSilentServer(): Promise<StandIn> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
