import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { PROBE_PATHS } from '../../base/surfaces.js';
import { answerRequest, serverRefusal, targetPath } from './server-answers.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Probe connections open at once, at most: the kubelet opens one per probe; more are closed on arrival. */
const MAX_PROBE_CONNECTIONS = 32;

/**
 * PROBE_PORT: a second listening socket for the kubelet's probes, whose connections the same HTTP server
 * serves. libuv accepts one connection per listening socket per turn of the event loop, and a busy turn
 * takes a hundred milliseconds or more: a probe that connected behind twenty new API connections waited
 * for twenty turns (2-4 s, past the liveness timeout) while every turn was short of that. On its own
 * socket a probe waits behind other probes only.
 */
export class ProbeListener {
  readonly #sockets = new WeakSet<Socket>();
  #listener: ReturnType<typeof createServer> | undefined;

  /** `listener` for the HTTP server: requests on probe connections for anything but a probe get a 404. */
  servingProbesOnly(listener: RequestListener): RequestListener {
    return (req, res) => {
      if (this.#sockets.has(req.socket) && !PROBE_PATHS.has(targetPath(req.url))) {
        answerRequest(
          req,
          res,
          serverRefusal('not-found', 'Only the health probes are served on PROBE_PORT.', 'probe_port'),
          { close: false },
        );
        return;
      }
      listener(req, res);
    };
  }

  /** Listens on `port` (0 picks a free one) at `host` and hands each connection to `server`. */
  listen(server: Server, port: number, host: string): Promise<number> {
    const listener = createServer({ noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      server.emit('connection', socket);
    });
    listener.maxConnections = MAX_PROBE_CONNECTIONS;
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
