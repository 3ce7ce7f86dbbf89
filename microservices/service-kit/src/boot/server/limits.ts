import { DEFAULT_BODY_LIMIT_BYTES } from '../../edge/body-limit.js';
import { DEFAULT_MAX_UNSENT_RESPONSE_BYTES } from '../../edge/unsent-answers.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES_HELD } from './request-body-bytes.js';

/**
 * The bounds the HTTP server puts on connections and requests before the app sees them (issue 13: no cheap
 * request may crash a pod). Every one has an environment variable (config/env.ts) and a line in the
 * manual's Security section; the reasoning for each default is next to it.
 */
export interface ServerLimits {
  /**
   * Open connections at most (`server.maxConnections`); more are closed as they arrive. Below the 1,024
   * descriptors a process often gets, leaving room for the outbound pool, the database pool and files.
   */
  maxConnections: number;
  /**
   * Requests handed to the app and not yet answered, across all connections; past it the server answers
   * `503` + `Retry-After` itself, before a Fetch Request is even built. Probes and `/metrics` are exempt.
   */
  maxInflightRequests: number;
  /**
   * Requests of one connection handed to the app at once. HTTP/1.1 answers leave in order, so more would
   * only build answers that wait in memory; past it (or while the socket's send buffer is full) the server
   * stops reading that connection until answers drain.
   */
  maxPipelinedRequests: number;
  /**
   * Answer bytes held for clients that have not read them, across all connections (UnsentAnswerBytes);
   * while at it, connections with an answer in flight or unsent get no further request, and large pages
   * are answered `503`.
   */
  maxUnsentResponseBytes: number;
  /**
   * Request body bytes of requests in the app at once (RequestBodyBytes); a body over 16 KB that does not
   * fit is answered `503` + `Retry-After` before it is read.
   */
  maxRequestBodyBytesHeld: number;
  /** The largest body the app accepts (`BODY_LIMIT_BYTES`): what a body sent in chunks may come to. */
  bodyLimitBytes: number;
  /** `TRUSTED_PROXIES`: whose `X-Forwarded-For` names the client a body is charged to. */
  trustedProxies: readonly string[];
  /** From the first byte of a request (or the connection) until its headers are complete. */
  headersTimeoutMs: number;
  /** From the first byte of a request until its body is complete. */
  requestTimeoutMs: number;
  /** A body that averages less than this after BODY_RATE_GRACE_MS is cut with a `408`. */
  minBodyBytesPerSecond: number;
  /** An answer the client stops reading (no byte leaves the send buffer) for this long cuts the connection. */
  sendTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 768,
  maxInflightRequests: 256,
  maxPipelinedRequests: 4,
  maxUnsentResponseBytes: DEFAULT_MAX_UNSENT_RESPONSE_BYTES,
  maxRequestBodyBytesHeld: DEFAULT_MAX_REQUEST_BODY_BYTES_HELD,
  bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
  trustedProxies: [],
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  minBodyBytesPerSecond: 1_024,
  sendTimeoutMs: 30_000,
};

/**
 * How often timeouts, body rates and stalled sends are checked. Node checks `headersTimeout` and
 * `requestTimeout` only every `connectionsCheckingInterval` (30 s by default), so a 30 s timeout fired
 * after 30–60 s; at 1 s every bound above fires within a second of its value.
 */
export const CONNECTION_CHECK_INTERVAL_MS = 1_000;

/** A body gets this long before its average rate is judged (a client may pause once, e.g. after headers). */
export const BODY_RATE_GRACE_MS = 5_000;

/**
 * Requests parsed from one connection and waiting for their turn (see maxPipelinedRequests). The parser
 * reads a whole socket chunk at once, so a 64 KiB write can hold thousands of tiny requests; a connection
 * with more than this many waiting is cut instead of queueing them.
 */
export const MAX_QUEUED_PIPELINED_REQUESTS = 128;

/**
 * Parsed requests waiting their turn across all connections. Each holds ~1.7 KB of heap (its
 * IncomingMessage, ServerResponse and headers), so 768 connections × 124 waiting behind answers never
 * read (4.9 KB written to each) held ~160 MB and ran a 128 MiB heap out; 2,048 hold ~3.5 MB. At the bound
 * the connection with the most waiting is cut (`waiting_overflow`).
 */
export const MAX_WAITING_REQUESTS = 2_048;

/**
 * Header fields per request. Node keeps the first 2,000 and silently drops the rest (`maxHeadersCount`);
 * here a request with more is refused with `431`. 100 is Apache's `LimitRequestFields`; a browser sends
 * about 20, a proxy adds a handful.
 */
export const MAX_HEADER_FIELDS = 100;

/** Request header block size (Node's default, stated so the manual and the 431 description can say it). */
export const MAX_HEADER_BYTES = 16_384;
