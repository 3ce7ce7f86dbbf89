import { Agent } from 'undici';

export interface DispatcherOptions {
  /** Max sockets per upstream origin; sized for load so requests queue on sockets, not on new handshakes. */
  connections: number;
  connectTimeoutMs: number;
  /** Kept below the upstream server's keep-alive timeout so we never write to a socket it is closing. */
  keepAliveTimeoutMs: number;
}

/** The one keep-alive HTTP dispatcher a process uses for all its outbound calls. */
export function createDispatcher(options: DispatcherOptions): Agent {
  return new Agent({
    connections: options.connections,
    connect: { timeout: options.connectTimeoutMs },
    keepAliveTimeout: options.keepAliveTimeoutMs,
    keepAliveMaxTimeout: options.keepAliveTimeoutMs,
  });
}
