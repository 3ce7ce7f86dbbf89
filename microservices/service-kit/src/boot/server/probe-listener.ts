import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { PROBE_PATHS } from '../../base/surfaces.js';
import { answerRequest, serverRefusal, targetPath } from './server-answers.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Probe connections open at once; a newcomer past it closes the oldest. The kubelet opens one per probe
 * and is answered within its timeout, so holding 32 sockets (refused newcomers, as Node's
 * `maxConnections` does) failed every probe; now each kubelet connection displaces a holder.
 */
const MAX_PROBE_CONNECTIONS = 32;
/** A probe connection without a byte in either direction this long is closed: over every probe's timeout. */
const PROBE_IDLE_TIMEOUT_MS = 5_000;

/**
 * PROBE_PORT: a second listening socket for the kubelet's probes, whose connections the same HTTP server
 * serves. libuv accepts one connection per listening socket per turn of the event loop, and a busy turn
 * takes a hundred milliseconds or more: a probe that connected behind twenty new API connections waited
 * for twenty turns (2-4 s, past the liveness timeout) while every turn was short of that. On its own
 * socket a probe waits behind other probes only. Probe connections are bounded here, not by
 * MAX_CONNECTIONS (a keep-alive flood at that cap would evict them), idle ones are closed, and every
 * answer there closes its connection, as the kubelet's own probes ask.
 */
export class ProbeListener {
  /** Open probe connections, oldest first. */
  readonly #open = new Set<Socket>();
  #listener: ReturnType<typeof createServer> | undefined;

  /** Whether `socket` was accepted on the probe port (and is open). */
  has(socket: Socket): boolean {
    return this.#open.has(socket);
  }

  /** `listener` for the HTTP server: requests on probe connections for anything but a probe get a 404. */
  servingProbesOnly(listener: RequestListener): RequestListener {
    return (req, res) => {
      if (!this.#open.has(req.socket)) {
        listener(req, res);
        return;
      }
      res.setHeader('Connection', 'close');
      if (!PROBE_PATHS.has(targetPath(req.url))) {
        answerRequest(
          req,
          res,
          serverRefusal('not-found', 'Only the health probes are served on PROBE_PORT.', 'probe_port'),
          { close: true },
        );
        return;
      }
      listener(req, res);
    };
  }

  /** Listens on `port` (0 picks a free one) at `host` and hands each connection to `server`. */
  listen(server: Server, port: number, host: string): Promise<number> {
    const listener = createServer({ noDelay: true }, (socket) => {
      if (this.#open.size >= MAX_PROBE_CONNECTIONS) {
        const [oldest] = this.#open;
        oldest?.destroy();
      }
      this.#open.add(socket);
      socket.once('close', () => this.#open.delete(socket));
      socket.setTimeout(PROBE_IDLE_TIMEOUT_MS, () => socket.destroy());
      server.emit('connection', socket);
    });
    this.#listener = listener;
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve((listener.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting probes (connections already handed over end with the HTTP server's). */
  close(): Promise<void> {
    const listener = this.#listener;
    if (!listener?.listening) return Promise.resolve();
    return new Promise((resolve) => listener.close(() => resolve()));
  }
}
