import { connect } from 'node:net';
import { LOOPBACK } from './processes.js';

/**
 * Whether a new TCP connection to 127.0.0.1:`port` is accepted (true) or refused (false).
 * Any other error, or no answer within `timeoutMs`, rejects.
 */
export function canConnect(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(
        new Error(`connecting to ${LOOPBACK}:${port} neither succeeded nor failed within ${timeoutMs} ms`),
      );
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code === 'ECONNREFUSED') resolve(false);
      else reject(err);
    });
  });
}
