import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isNeverShed } from '../../base/surfaces.js';
import { quotaKey, TrustedProxies } from '../../edge/client-address.js';
import { recordConnectionCut } from '../../edge/connection-verdict.js';
import { ChargedResponse, type UnsentAnswerBytes } from '../../edge/unsent-answers.js';
import {
  type BodyWatch,
  bodyQuietSince,
  type Connection,
  evictionCandidate,
  newConnection,
} from './connection-state.js';
import {
  BODY_RATE_GRACE_MS,
  CONNECTION_CHECK_INTERVAL_MS,
  MAX_HEADER_FIELDS,
  MAX_QUEUED_PIPELINED_REQUESTS,
  MAX_WAITING_REQUESTS,
  type ServerLimits,
} from './limits.js';
import { bodyBytesToHold, type RequestBodyBytes, SMALL_BODY_BYTES } from './request-body-bytes.js';
import {
  answerRequest,
  answerSocket,
  type ServerRefusal,
  serverRefusal,
  targetPath,
} from './server-answers.js';
import type { ServerMetrics } from './server-metrics.js';
import { strictHttpRefusal } from './strict-http.js';
import type { ThrottledLog } from './throttled-log.js';

export interface RequestAdmissionOptions {
  limits: ServerLimits;
  metrics: ServerMetrics;
  warn: ThrottledLog;
  /** The process's answer bytes not yet sent; its responses are ChargedResponses charging it. */
  unsentAnswers: UnsentAnswerBytes;
  /** The process's request body bytes in the app. */
  requestBodies: RequestBodyBytes;
  /** Connections accepted on PROBE_PORT (see ProbeListener): not counted towards MAX_CONNECTIONS. */
  probeSockets?: { has(socket: Socket): boolean } | undefined;
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

const STALLED_BODY = serverRefusal(
  'request-timeout',
  'The request body stopped arriving while other requests needed its room (MAX_REQUEST_BODY_BYTES_HELD).',
  'body_stalled',
);

const SLOW_BODY = (minRate: number): ServerRefusal =>
  serverRefusal(
    'request-timeout',
    `The request body arrived slower than ${minRate} bytes per second.`,
    'slow_body',
  );

/**
 * Whether a body is received before its request reaches the app: a declared length (`held`, which is 0
 * over BODY_LIMIT_BYTES, where the app answers `413` from the header at once) up to SMALL_BODY_BYTES that
 * fits the request's read buffer (a larger one would pause the socket before it was all in).
 */
const isBufferedBody = (req: IncomingMessage, held: number): boolean =>
  req.headers['transfer-encoding'] === undefined &&
  held > 0 &&
  held <= SMALL_BODY_BYTES &&
  held <= req.readableHighWaterMark;

/**
 * Runs `arrived` once the parser has the whole body of `req` (its `push(null)`), without reading it: the
 * app reads it from the request as if it had just arrived. Runs `gone` instead if the request closes first
 * (its client went away, or the server cut it).
 */
function whenBodyArrived(req: IncomingMessage, arrived: () => void, gone: () => void): void {
  const push = req.push;
  let done = false;
  req.push = function pushed(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    const more = push.call(this, chunk, encoding);
    if (chunk === null && !done) {
      done = true;
      req.push = push;
      arrived();
    }
    return more;
  };
  req.once('close', () => {
    if (done) return;
    done = true;
    req.push = push;
    gone();
  });
}

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
  readonly #proxies: TrustedProxies;
  readonly #probeSockets: { has(socket: Socket): boolean } | undefined;
  /** Open connections accepted on PROBE_PORT, left out of the MAX_CONNECTIONS count. */
  #probesOpen = 0;
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
    this.#probeSockets = options.probeSockets;
    this.#proxies = new TrustedProxies(options.limits.trustedProxies);
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
   * idle longest (connection-state.ts). Idle is quiet (nothing in flight: an idle keep-alive connection,
   * whose client reconnects at once, or one still holding back its headers, as a slowloris does) or
   * stalled: an answer waiting in the send buffer, or a request body, that has not moved since the sweep
   * saw it last. ~790 clients that asked for an answer and never read it, each replaced before
   * SEND_TIMEOUT_MS, otherwise held every slot and refused 87 % of the probes; 200 uploads that never
   * sent their bodies did the same at MAX_CONNECTIONS=200. Refusing the newcomer instead would let whoever
   * holds the slots first (1,100 slow sockets did) lock every later client out, probes included. Only
   * when every connection is busy is the newcomer closed.
   */
  #connected(socket: Socket): void {
    // A probe connection has a place of its own (ProbeListener bounds them): it neither takes a client's
    // place nor can a client's newcomer evict it, or a keep-alive flood at the cap failed the probes.
    if (this.#probeSockets?.has(socket)) {
      this.#track(socket, true);
      return;
    }
    if (this.#connections.size - this.#probesOpen >= this.#limits.maxConnections) {
      const idle = evictionCandidate(this.#connections.values());
      if (idle) {
        idle.connection.socket.destroy();
        this.#metrics.connectionsCut.inc({
          reason: idle.how === 'quiet' ? 'evicted_at_cap' : 'evicted_stalled_at_cap',
        });
      } else {
        this.#metrics.connectionsDropped.inc();
        socket.destroy();
      }
      this.#warn(
        'cap',
        { max_connections: this.#limits.maxConnections, evicted: idle?.how ?? 'none' },
        'MAX_CONNECTIONS open: closing the connection idle longest (or, if none is, the new one)',
      );
      if (!idle) return;
    }
    this.#track(socket);
  }

  #track(socket: Socket, probe = false): Connection {
    const existing = this.#connections.get(socket);
    if (existing) return existing;
    const connection = newConnection(socket, this.#now(), probe);
    this.#connections.set(socket, connection);
    if (probe) this.#probesOpen += 1;
    this.#metrics.connectionsOpen.inc();
    socket.on('drain', () => this.#pump(connection));
    socket.once('close', () => {
      this.#connections.delete(socket);
      if (probe) this.#probesOpen -= 1;
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
    let client = '';
    let heldBody = 0;
    const freeHeld = () => {
      this.#requestBodies.free(heldBody, client);
      heldBody = 0;
    };
    // The app is done with a request once it has ended its answer: what is left to send is the unsent
    // budget's and the send timeout's concern. Holding the slot until the client has read it let 256
    // sockets that never read turn every other client away.
    const leftApp = () => {
      freeHeld();
      if (!inApp) return;
      inApp = false;
      this.#inFlight -= 1;
      this.#metrics.inFlight.dec();
    };
    const release = () => {
      if (!connection.releases.delete(release)) return;
      if (res instanceof ChargedResponse) res.settle();
      connection.inFlight -= 1;
      if (res.writableFinished) connection.served = true;
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
    const declaresBody = hasBody(req);
    const withBody = declaresBody && !req.complete;
    const bodyBytes = declaresBody ? bodyBytesToHold(req, this.#limits.bodyLimitBytes) : 0;
    if (bodyBytes > 0) client = this.#clientOf(req);
    if (!this.#holdBody(bodyBytes, client)) {
      this.#refused(NO_ROOM_FOR_BODY);
      // Closed after the answer: the body is never read, so it cannot be told from the next request.
      answerRequest(req, res, NO_ROOM_FOR_BODY, { close: true, retryAfterSeconds: 1 });
      return;
    }
    heldBody = bodyBytes;
    const buffered = withBody && isBufferedBody(req, bodyBytes);
    if (withBody) this.#watchBody(connection, req, res, { held: bodyBytes, freeHeld, buffered });

    const enter = () => {
      if (connection.socket.destroyed) return;
      if (this.#inFlight >= this.#limits.maxInflightRequests && !isNeverShed(targetPath(req.url))) {
        this.#metrics.shed.inc();
        this.#warn(
          'shed',
          { in_flight: this.#inFlight, limit: this.#limits.maxInflightRequests },
          'shedding load: MAX_INFLIGHT_REQUESTS reached, answering 503',
        );
        answerRequest(req, res, SHED, { close: declaresBody && !req.complete, retryAfterSeconds: 1 });
        return;
      }
      inApp = true;
      this.#inFlight += 1;
      this.#metrics.inFlight.inc();
      if (res instanceof ChargedResponse) res.onEnded(leftApp);
      (this.#listener as RequestListener)(req, res);
    };
    // A small body is received before its request reaches the app (as a proxy buffers requests): until
    // then the request takes no MAX_INFLIGHT_REQUESTS slot, so 256 uploads that never sent their bodies
    // (5 KB/s of headers, reconnecting after each 408) no longer hold every slot, and the in-flight bound
    // is checked when the request is complete. A larger body is streamed into the app, which holds a slot
    // from the start; the body budget bounds how many of those can wait for their bytes.
    // One whose client leaves first still reaches the app, which logs it as the 499 (or 408) it is.
    if (buffered) {
      whenBodyArrived(req, enter, () => (this.#listener as RequestListener)(req, res));
    } else enter();
  }

  /**
   * Holds `bytes` of request body in the budget. When they do not fit, uploads whose bodies have stopped
   * arriving give up their room first (oldest first): 16 uploads that declared 1 MiB and never sent a
   * byte otherwise held all 16 MiB for 339 B/s of headers, and every order over 16 KB was a `503`.
   */
  #holdBody(bytes: number, client: string): boolean {
    for (;;) {
      const verdict = this.#requestBodies.tryHold(bytes, client);
      if (verdict === 'held') return true;
      // Over its own share, a client gets a 503: other clients' uploads never give way for it.
      const stalled = verdict === 'full' ? this.#stalledUpload() : undefined;
      if (!stalled) return false;
      this.#cutUpload(stalled.connection, stalled.watch, STALLED_BODY);
    }
  }

  /** Whom a request's body is charged to: its client behind TRUSTED_PROXIES, by quotaKey (IPv6 by /64). */
  #clientOf(req: IncomingMessage): string {
    const forwarded = req.headers['x-forwarded-for'];
    return quotaKey(
      this.#proxies.clientOf(req.socket.remoteAddress, typeof forwarded === 'string' ? forwarded : undefined),
    );
  }

  /**
   * The upload holding budget whose bytes have not moved for two check intervals (one could fall between
   * two chunks of a slow but steady sender), stalled longest.
   */
  #stalledUpload(): { connection: Connection; watch: BodyWatch } | undefined {
    const before = this.#now() - 2 * CONNECTION_CHECK_INTERVAL_MS;
    let found: { connection: Connection; watch: BodyWatch; since: number } | undefined;
    for (const connection of this.#connections.values()) {
      if (connection.endedAt !== undefined) continue;
      const since = bodyQuietSince(connection);
      if (since > before) continue;
      for (const watch of connection.bodies) {
        if (watch.held <= SMALL_BODY_BYTES || watch.req.complete) continue;
        if (!found || since < found.since) found = { connection, watch, since };
      }
    }
    return found;
  }

  /** Answers an upload still arriving with a `408` and ends its connection, freeing its body's room now. */
  #cutUpload(connection: Connection, watch: BodyWatch, refusal: ServerRefusal): void {
    watch.freeHeld();
    const { reason } = refusal;
    const received = connection.socket.bytesRead - watch.bytesAtStart;
    this.#metrics.connectionsCut.inc({ reason });
    this.#warn(
      `cut:${reason}`,
      { reason, received_bytes: received, elapsed_ms: Math.round(this.#now() - watch.startedAt) },
      `connection cut: ${refusal.detail}`,
    );
    recordConnectionCut(connection.socket, 408);
    answerSocket(connection.socket, refusal, watch.res.headersSent);
    connection.endedAt = this.#now();
    connection.bodies = [];
  }

  /**
   * Watches a body still arriving for the minimum-rate check and the body budget, until it has all arrived
   * and been read: kept until the next sweep instead, every POST's request and response outlived the young
   * generation (10,000 a second at load) and doubled the CPU a create cost, most of it in the garbage
   * collector.
   */
  #watchBody(
    connection: Connection,
    req: IncomingMessage,
    res: ServerResponse,
    body: { held: number; freeHeld: () => void; buffered: boolean },
  ): void {
    const watch: BodyWatch = {
      req,
      res,
      startedAt: this.#now(),
      bytesAtStart: connection.socket.bytesRead,
      held: body.held,
      freeHeld: body.freeHeld,
      buffered: body.buffered,
    };
    connection.bodies.push(watch);
    connection.readMark = watch.bytesAtStart;
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
      this.#trackBodyProgress(connection, now);
      this.#checkBodies(connection, now);
      if (connection.endedAt === undefined) this.#checkSend(connection, now);
    }
  }

  /** Notes when bytes of a body still arriving were last seen (stalled uploads give up their room first). */
  #trackBodyProgress(connection: Connection, now: number): void {
    if (connection.bodies.length === 0) return;
    const read = connection.socket.bytesRead;
    if (read === connection.readMark) return;
    connection.readMark = read;
    connection.readMovedAt = now;
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
      // Bytes that arrived and wait unread in the request are the app's delay, not the client's (unless
      // the body is being received before the app sees it).
      if (!watch.buffered && watch.req.readableLength > 0) continue;
      this.#cutUpload(connection, watch, SLOW_BODY(minRate));
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
