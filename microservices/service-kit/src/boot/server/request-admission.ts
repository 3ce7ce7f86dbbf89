import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isNeverShed } from '../../base/surfaces.js';
import { recordConnectionCut } from '../../edge/connection-verdict.js';
import { ChargedResponse, type UnsentAnswerBytes } from '../../edge/unsent-answers.js';
import {
  BODY_RATE_GRACE_MS,
  CONNECTION_CHECK_INTERVAL_MS,
  MAX_HEADER_FIELDS,
  MAX_QUEUED_PIPELINED_REQUESTS,
  MAX_WAITING_REQUESTS,
  type ServerLimits,
} from './limits.js';
import {
  answerRequest,
  answerSocket,
  type ServerRefusal,
  serverRefusal,
  targetPath,
} from './server-answers.js';
import { bodyBytesToHold, type RequestBodyBytes } from './request-body-bytes.js';
import type { ServerMetrics } from './server-metrics.js';
import { strictHttpRefusal } from './strict-http.js';
import type { ThrottledLog } from './throttled-log.js';

/** A dispatched request whose body is still arriving, for the minimum-rate check. */
interface BodyWatch {
  req: IncomingMessage;
  res: ServerResponse;
  startedAt: number;
  bytesAtStart: number;
}

interface Connection {
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
  /** Since when nothing of this connection is in flight (its opening, or its last answer's close). */
  quietSince: number;
  /** When its latest request was handed on (to the app or a server answer). */
  dispatchedAt: number;
  /** When the server ended this connection; a peer that never closes its side is destroyed after a grace. */
  endedAt: number | undefined;
}

export interface RequestAdmissionOptions {
  limits: ServerLimits;
  metrics: ServerMetrics;
  warn: ThrottledLog;
  /** The process's answer bytes not yet sent; its responses are ChargedResponses charging it. */
  unsentAnswers: UnsentAnswerBytes;
  /** The process's request body bytes in the app. */
  requestBodies: RequestBodyBytes;
  now?: () => number;
}

/** How long an ended connection may stay half-open before it is destroyed. */
const END_GRACE_MS = 2_000;

const SHED = serverRefusal(
  'overloaded',
  'The server is at its in-flight request limit; retry after the time in Retry-After.',
  'shed',
);

const NO_ROOM_FOR_BODY = serverRefusal(
  'overloaded',
  'The server holds as many request body bytes as it may (MAX_REQUEST_BODY_BYTES_HELD); retry after the time in Retry-After.',
  'body_budget',
);

const SLOW_BODY = (minRate: number): ServerRefusal =>
  serverRefusal(
    'request-timeout',
    `The request body arrived slower than ${minRate} bytes per second.`,
    'slow_body',
  );

const hasBody = (req: IncomingMessage): boolean => {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
};

/**
 * Admits parsed requests to the app within the server's bounds (issue 13):
 *
 * - **per connection** at most `maxPipelinedRequests` at once, and none while the socket's send buffer is
 *   full. Node parses every request of a socket chunk before any answer exists, and a 19 KB write of 400
 *   pipelined list requests used to have the app build 400 answers and exhaust the heap; now the rest
 *   wait (cheaply, as parsed requests) and the socket is no longer read until answers drain. More than
 *   MAX_QUEUED_PIPELINED_REQUESTS waiting cuts the connection, and so does holding the most when
 *   MAX_WAITING_REQUESTS wait across connections;
 * - **per process** at most `maxUnsentResponseBytes` of answers held for clients that have not read them
 *   (UnsentAnswerBytes): while that is spent, a connection with an answer in flight or unsent gets no
 *   further request until the bytes drain; connections with nothing held still get one at a time;
 * - **per process** at most `maxInflightRequests` in the app; past it a `503` problem with `Retry-After`
 *   is answered here, before a Fetch Request is built. Probes and `/metrics` are never shed;
 * - the strict-HTTP refusals (strict-http.ts), answered here as problems;
 * - every CONNECTION_CHECK_INTERVAL_MS: bodies slower than `minBodyBytesPerSecond` are cut with a `408`,
 *   connections whose answer has not moved out of the send buffer for `sendTimeoutMs` are cut.
 */
export class RequestAdmission {
  readonly #limits: ServerLimits;
  readonly #metrics: ServerMetrics;
  readonly #warn: ThrottledLog;
  readonly #now: () => number;
  readonly #connections = new Map<Socket, Connection>();
  readonly #unsentAnswers: UnsentAnswerBytes;
  readonly #requestBodies: RequestBodyBytes;
  /** Connections with requests waiting because the unsent-answer budget was spent. */
  readonly #starved = new Set<Connection>();
  #inFlight = 0;
  /** Parsed requests waiting their turn, across connections (MAX_WAITING_REQUESTS). */
  #waitingTotal = 0;
  #listener: RequestListener | undefined;

  constructor(options: RequestAdmissionOptions) {
    this.#limits = options.limits;
    this.#metrics = options.metrics;
    this.#warn = options.warn;
    this.#now = options.now ?? (() => performance.now());
    this.#unsentAnswers = options.unsentAnswers;
    this.#requestBodies = options.requestBodies;
    this.#unsentAnswers.onFreed(() => this.#feedStarved());
  }

  /** The server's request listener: `listener` (the app), behind the admission rules. */
  wrap(listener: RequestListener): RequestListener {
    this.#listener = listener;
    return (req, res) => this.#admit(req, res);
  }

  /** Tracks the server's connections and runs the periodic checks until it closes. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#connected(socket));
    const sweep = setInterval(() => this.sweep(), CONNECTION_CHECK_INTERVAL_MS);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  }

  /** Request bodies being watched for the minimum-rate check (still arriving, or not yet read). */
  get watchedBodies(): number {
    let count = 0;
    for (const connection of this.#connections.values()) count += connection.bodies.length;
    return count;
  }

  /** Parsed requests waiting their turn, across connections. */
  get waitingRequests(): number {
    return this.#waitingTotal;
  }

  /** Requests in the app right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * The connection cap, `maxConnections`: a connection past it takes the place of the one that has been
   * idle longest. Idle is quiet (nothing in flight: an idle keep-alive connection, whose client reconnects
   * at once, or one still holding back its headers, as a slowloris does) or stalled (an answer waiting in
   * the send buffer that has not moved since the sweep saw it last: ~790 clients that asked for an answer
   * and never read it, each replaced before SEND_TIMEOUT_MS, otherwise held every slot and refused 87 % of
   * the probes). Refusing the newcomer instead would let whoever holds the slots first (1,100 slow sockets
   * did) lock every later client out, probes included. Only when every connection has its request in the
   * app or its answer moving is the newcomer closed.
   */
  #connected(socket: Socket): void {
    if (this.#connections.size >= this.#limits.maxConnections) {
      const idle = this.#idlest();
      if (idle) {
        idle.connection.socket.destroy();
        this.#metrics.connectionsCut.inc({
          reason: idle.stalled ? 'evicted_stalled_at_cap' : 'evicted_at_cap',
        });
      } else {
        this.#metrics.connectionsDropped.inc();
        socket.destroy();
      }
      this.#warn(
        'cap',
        {
          max_connections: this.#limits.maxConnections,
          evicted: idle ? (idle.stalled ? 'stalled' : 'quiet') : 'none',
        },
        'MAX_CONNECTIONS open: closing the connection idle longest (or, if none is, the new one)',
      );
      if (!idle) return;
    }
    this.#track(socket);
  }

  /**
   * The connection idle longest: quiet since its last answer closed (or its opening), or stalled since its
   * send last moved (or, before a sweep has seen it, since its last request was handed on). A connection
   * opened a moment ago and not yet parsed is quiet too, so it goes only after every one idle longer.
   */
  #idlest(): { connection: Connection; stalled: boolean } | undefined {
    let idlest: Connection | undefined;
    let idleSince = Number.POSITIVE_INFINITY;
    let stalled = false;
    for (const connection of this.#connections.values()) {
      if (connection.socket.destroyed) continue;
      const quiet = connection.inFlight === 0 && connection.waiting.length === 0;
      let since: number;
      if (quiet) since = connection.quietSince;
      else if (connection.socket.writableLength > 0)
        since = connection.stalledSince ?? connection.dispatchedAt;
      else continue;
      if (since < idleSince) {
        idlest = connection;
        idleSince = since;
        stalled = !quiet;
      }
    }
    return idlest && { connection: idlest, stalled };
  }

  #track(socket: Socket): Connection {
    const existing = this.#connections.get(socket);
    if (existing) return existing;
    const connection: Connection = {
      socket,
      inFlight: 0,
      waiting: [],
      pausedHere: false,
      bodies: [],
      releases: new Set(),
      sentMark: 0,
      stalledSince: undefined,
      quietSince: this.#now(),
      dispatchedAt: this.#now(),
      endedAt: undefined,
    };
    this.#connections.set(socket, connection);
    this.#metrics.connectionsOpen.inc();
    socket.on('drain', () => this.#pump(connection));
    socket.once('close', () => {
      this.#connections.delete(socket);
      this.#starved.delete(connection);
      this.#metrics.connectionsOpen.dec();
      this.#dropWaiting(connection);
      connection.bodies = [];
      for (const release of connection.releases) release();
    });
    return connection;
  }

  #admit(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.#track(req.socket as Socket);
    if (connection.socket.destroyed) return;
    if (connection.waiting.length > 0 || !this.#hasRoom(connection)) {
      if (connection.waiting.length >= MAX_QUEUED_PIPELINED_REQUESTS) {
        this.#cut(connection, 'pipeline_overflow', { waiting: connection.waiting.length });
        return;
      }
      if (this.#waitingTotal >= MAX_WAITING_REQUESTS && !this.#makeRoomToWait(connection)) return;
      connection.waiting.push([req, res]);
      this.#waitingTotal += 1;
      this.#metrics.waiting.inc();
      if (!connection.pausedHere) {
        connection.pausedHere = true;
        connection.socket.pause();
      }
      return;
    }
    this.#dispatch(connection, req, res);
  }

  /**
   * At MAX_WAITING_REQUESTS, the connection with the most requests waiting is cut, or `connection` itself
   * when none has more: each waiting request holds ~1.7 KB of heap, and 768 connections × 124 waiting
   * behind answers that were never read ran a 128 MiB heap out. False when `connection` was cut.
   */
  #makeRoomToWait(connection: Connection): boolean {
    let most = connection;
    for (const other of this.#connections.values()) {
      if (other.waiting.length > most.waiting.length) most = other;
    }
    this.#cut(most, 'waiting_overflow', { waiting: most.waiting.length, waiting_total: this.#waitingTotal });
    return most !== connection;
  }

  #dropWaiting(connection: Connection): void {
    if (connection.waiting.length === 0) return;
    this.#waitingTotal -= connection.waiting.length;
    this.#metrics.waiting.dec(connection.waiting.length);
    connection.waiting = [];
  }

  /**
   * Whether the connection may have one more request in the app: below maxPipelinedRequests and with
   * room in its send buffer; and, while the process's unsent answers are at their bound, only if nothing
   * of this connection is in flight or unsent (it is fed again when the bytes drain).
   */
  #hasRoom(connection: Connection): boolean {
    const { socket } = connection;
    if (connection.inFlight >= this.#limits.maxPipelinedRequests || socket.writableNeedDrain) return false;
    if (!this.#unsentAnswers.spent || (connection.inFlight === 0 && socket.writableLength === 0)) return true;
    if (!this.#starved.has(connection)) {
      this.#starved.add(connection);
      this.#metrics.budgetWaits.inc();
      this.#warn(
        'unsent',
        { unsent_bytes: this.#unsentAnswers.held, limit: this.#unsentAnswers.max },
        'MAX_UNSENT_RESPONSE_BYTES held for clients that have not read them: further pipelined requests wait',
      );
    }
    return false;
  }

  /** Hands their waiting requests to the connections the unsent-answer budget held back, while it allows. */
  #feedStarved(): void {
    for (const connection of this.#starved) {
      if (this.#unsentAnswers.spent) return;
      this.#starved.delete(connection);
      if (!connection.socket.destroyed) this.#pump(connection);
    }
  }

  #dispatch(connection: Connection, req: IncomingMessage, res: ServerResponse): void {
    connection.inFlight += 1;
    connection.dispatchedAt = this.#now();
    let inApp = false;
    let heldBody = 0;
    // The app is done with a request once it has ended its answer: what is left to send is the unsent
    // budget's and the send timeout's concern. Holding the slot until the client has read it let 256
    // sockets that never read turn every other client away.
    const leftApp = () => {
      if (!inApp) return;
      inApp = false;
      this.#requestBodies.free(heldBody);
      this.#inFlight -= 1;
      this.#metrics.inFlight.dec();
    };
    const release = () => {
      if (!connection.releases.delete(release)) return;
      if (res instanceof ChargedResponse) res.settle();
      connection.inFlight -= 1;
      if (connection.inFlight === 0) connection.quietSince = this.#now();
      leftApp();
      if (!connection.socket.destroyed) this.#pump(connection);
    };
    connection.releases.add(release);
    res.once('close', release);

    const strict = strictHttpRefusal(req, MAX_HEADER_FIELDS);
    if (strict) {
      this.#refused(strict.refusal);
      answerRequest(req, res, strict.refusal, { close: strict.close });
      return;
    }
    if (this.#inFlight >= this.#limits.maxInflightRequests && !isNeverShed(targetPath(req.url))) {
      this.#metrics.shed.inc();
      this.#warn(
        'shed',
        { in_flight: this.#inFlight, limit: this.#limits.maxInflightRequests },
        'shedding load: MAX_INFLIGHT_REQUESTS reached, answering 503',
      );
      answerRequest(req, res, SHED, { close: false, retryAfterSeconds: 1 });
      return;
    }
    const withBody = hasBody(req);
    const bodyBytes = withBody ? bodyBytesToHold(req, this.#limits.bodyLimitBytes) : 0;
    if (!this.#requestBodies.tryHold(bodyBytes)) {
      this.#refused(NO_ROOM_FOR_BODY);
      // Closed after the answer: the body is never read, so it cannot be told from the next request.
      answerRequest(req, res, NO_ROOM_FOR_BODY, { close: true, retryAfterSeconds: 1 });
      return;
    }
    inApp = true;
    heldBody = bodyBytes;
    this.#inFlight += 1;
    this.#metrics.inFlight.inc();
    if (res instanceof ChargedResponse) res.onEnded(leftApp);
    if (withBody && !req.complete) this.#watchBody(connection, req, res);
    (this.#listener as RequestListener)(req, res);
  }

  /**
   * Watches a body still arriving for the minimum-rate check, until it has all arrived and been read:
   * kept until the next sweep instead, every POST's request and response outlived the young generation
   * (10,000 a second at load) and doubled the CPU a create cost, most of it in the garbage collector.
   */
  #watchBody(connection: Connection, req: IncomingMessage, res: ServerResponse): void {
    const watch: BodyWatch = { req, res, startedAt: this.#now(), bytesAtStart: connection.socket.bytesRead };
    connection.bodies.push(watch);
    req.once('end', () => {
      const at = connection.bodies.indexOf(watch);
      if (at !== -1) connection.bodies.splice(at, 1);
    });
  }

  /** Hands waiting requests on while there is room, and reads the socket again once none wait. */
  #pump(connection: Connection): void {
    while (connection.waiting.length > 0 && this.#hasRoom(connection)) {
      const [req, res] = connection.waiting.shift() as [IncomingMessage, ServerResponse];
      this.#waitingTotal -= 1;
      this.#metrics.waiting.dec();
      this.#dispatch(connection, req, res);
    }
    if (connection.waiting.length === 0 && connection.pausedHere) {
      connection.pausedHere = false;
      // Node pauses a socket itself while queued answers exceed the send buffer (`_paused`) and resumes
      // it on drain; resuming it here as well would override that.
      if (!(connection.socket as Socket & { _paused?: boolean })._paused) connection.socket.resume();
    }
  }

  #refused(refusal: ServerRefusal): void {
    this.#metrics.refusals.inc({ reason: refusal.reason, status_code: String(refusal.status) });
    this.#warn(
      `refused:${refusal.reason}`,
      { reason: refusal.reason, status: refusal.status },
      `request refused by the server: ${refusal.detail}`,
    );
  }

  #cut(connection: Connection, reason: string, fields: Record<string, unknown>): void {
    this.#metrics.connectionsCut.inc({ reason });
    this.#warn(`cut:${reason}`, { reason, ...fields }, `connection cut: ${reason}`);
    this.#dropWaiting(connection);
    connection.socket.destroy();
  }

  /** The periodic checks; public for tests that drive time themselves. */
  sweep(): void {
    const now = this.#now();
    for (const connection of this.#connections.values()) {
      const { socket } = connection;
      if (connection.endedAt !== undefined) {
        if (now - connection.endedAt >= END_GRACE_MS) socket.destroy();
        continue;
      }
      this.#checkBodies(connection, now);
      if (connection.endedAt === undefined) this.#checkSend(connection, now);
    }
  }

  #checkBodies(connection: Connection, now: number): void {
    if (connection.bodies.length === 0 || this.#limits.minBodyBytesPerSecond === 0) return;
    connection.bodies = connection.bodies.filter((w) => !w.req.complete && !w.req.destroyed);
    const minRate = this.#limits.minBodyBytesPerSecond;
    for (const watch of connection.bodies) {
      const elapsed = now - watch.startedAt;
      if (elapsed < BODY_RATE_GRACE_MS) continue;
      const received = connection.socket.bytesRead - watch.bytesAtStart;
      if ((received * 1000) / elapsed >= minRate) continue;
      // Bytes that arrived and wait unread in the request are the app's delay, not the client's.
      if (watch.req.readableLength > 0) continue;
      const refusal = SLOW_BODY(minRate);
      this.#metrics.connectionsCut.inc({ reason: refusal.reason });
      this.#warn(
        'cut:slow_body',
        { reason: refusal.reason, received_bytes: received, elapsed_ms: Math.round(elapsed) },
        `connection cut: request body slower than ${minRate} B/s`,
      );
      recordConnectionCut(connection.socket, 408);
      answerSocket(connection.socket, refusal, watch.res.headersSent);
      connection.endedAt = now;
      connection.bodies = [];
      return;
    }
  }

  #checkSend(connection: Connection, now: number): void {
    const { socket } = connection;
    if (socket.writableLength === 0) {
      connection.stalledSince = undefined;
      return;
    }
    const sent = socket.bytesWritten - socket.writableLength;
    if (connection.stalledSince === undefined || sent !== connection.sentMark) {
      connection.sentMark = sent;
      connection.stalledSince = now;
      return;
    }
    if (now - connection.stalledSince >= this.#limits.sendTimeoutMs) {
      this.#cut(connection, 'send_timeout', { unsent_bytes: socket.writableLength });
    }
  }

  /** Marks a connection the server has ended (after a parser refusal or timeout), for the grace above. */
  ended(socket: Socket): void {
    const connection = this.#connections.get(socket);
    if (connection) connection.endedAt = this.#now();
  }
}
