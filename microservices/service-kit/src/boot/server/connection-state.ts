import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A dispatched request whose body is still arriving: for the minimum-rate check and the body budget. */
export interface BodyWatch {
  req: IncomingMessage;
  res: ServerResponse;
  startedAt: number;
  bytesAtStart: number;
  /** Request body bytes this request holds in the budget (RequestBodyBytes). */
  held: number;
  /** Frees `held` from the budget; runs once, whichever comes first (its answer, or its eviction). */
  freeHeld: () => void;
  /** Received before the app sees the request: bytes waiting in it are not the app's delay. */
  buffered: boolean;
}

export interface Connection {
  socket: Socket;
  /** Requests of this connection handed on (to the app or a server answer) whose response has not closed. */
  inFlight: number;
  /** Parsed, waiting for their turn (maxPipelinedRequests, or a full send buffer). */
  waiting: Array<[IncomingMessage, ServerResponse]>;
  pausedHere: boolean;
  bodies: BodyWatch[];
  /**
   * Releases of the requests handed on: each runs once, on its response's `close` or the socket's, since
   * Node never closes the answers still queued behind another when the socket dies.
   */
  releases: Set<() => void>;
  /** Bytes that had left the send buffer when the sweep last saw it move, and since when it has not. */
  sentMark: number;
  stalledSince: number | undefined;
  /** Bytes received when the sweep last saw a body arriving, and when it last saw them grow. */
  readMark: number;
  readMovedAt: number | undefined;
  /** Since when nothing of this connection is in flight (its opening, or its last answer's close). */
  quietSince: number;
  /** When its latest request was handed on (to the app or a server answer). */
  dispatchedAt: number;
  /** Whether any answer of this connection has been completed: a client's keep-alive connection. */
  served: boolean;
  /** When the server ended this connection; a peer that never closes its side is destroyed after a grace. */
  endedAt: number | undefined;
  /** Accepted on PROBE_PORT: bounded there, outside MAX_CONNECTIONS, and never evicted for a newcomer. */
  probe: boolean;
}

export function newConnection(socket: Socket, now: number, probe = false): Connection {
  return {
    probe,
    socket,
    inFlight: 0,
    waiting: [],
    pausedHere: false,
    bodies: [],
    releases: new Set(),
    sentMark: 0,
    stalledSince: undefined,
    readMark: socket.bytesRead,
    readMovedAt: undefined,
    quietSince: now,
    dispatchedAt: now,
    served: false,
    endedAt: undefined,
  };
}

/** Since when no byte of the body this connection is sending has arrived (or since it was handed on). */
export const bodyQuietSince = (connection: Connection): number =>
  Math.max(connection.dispatchedAt, connection.readMovedAt ?? 0);

/** Why a connection may give its place to a newcomer at the cap. */
export type Idleness = 'quiet' | 'stalled_send' | 'stalled_body';

/** Since when `connection` has done nothing useful, and how; undefined when it is busy. */
export function idleness(connection: Connection): { since: number; how: Idleness } | undefined {
  if (connection.socket.destroyed) return undefined;
  if (connection.inFlight === 0 && connection.waiting.length === 0) {
    return { since: connection.quietSince, how: 'quiet' };
  }
  if (connection.socket.writableLength > 0) {
    return { since: connection.stalledSince ?? connection.dispatchedAt, how: 'stalled_send' };
  }
  if (connection.bodies.some((watch) => !watch.req.complete)) {
    return { since: bodyQuietSince(connection), how: 'stalled_body' };
  }
  return undefined;
}

/**
 * The connection to close for a newcomer at the cap: the one idle longest, but a client's idle keep-alive
 * connection (quiet after an answer) only when no other is idle. Churning silent connections at the cap
 * otherwise evicted every keep-alive connection idle between two requests, and half a client's requests
 * failed on a reused socket.
 */
export function evictionCandidate(
  connections: Iterable<Connection>,
): { connection: Connection; how: Idleness } | undefined {
  let best: { connection: Connection; how: Idleness; since: number; kept: boolean } | undefined;
  for (const connection of connections) {
    if (connection.probe) continue;
    const idle = idleness(connection);
    if (!idle) continue;
    const kept = idle.how === 'quiet' && connection.served;
    if (!best || (best.kept && !kept) || (best.kept === kept && idle.since < best.since)) {
      best = { connection, how: idle.how, since: idle.since, kept };
    }
  }
  return best && { connection: best.connection, how: best.how };
}
