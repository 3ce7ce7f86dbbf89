import type { Logger } from 'pino';
import { PROBE_PATHS } from '../base/surfaces.js';
import { mentionsAccessToken } from './auth/token-in-url.js';
import type { HttpMetrics } from './http-metrics.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface ObservedRequest {
  method: string;
  /** The matched route template (`unmatched` when none matched), never the raw path. */
  route: string;
  path: string;
  status: number;
  requestId: string;
  /** Who called, when authentication established it (the token's `sub`; never the token). */
  subject?: string | undefined;
}

/**
 * The one timing of each request, feeding both the metrics and the single access-log line.
 * The `route` label is the route template, so ids cannot blow up the metrics' cardinality.
 */
export class RequestObserver {
  readonly #metrics: HttpMetrics;
  readonly #accessLog: Logger;

  constructor(metrics: HttpMetrics, logger: Logger) {
    this.#metrics = metrics;
    // The access line is built here from fixed fields (method, route template, path, status, timing,
    // request id, subject) and never carries a body, so the logger's key-based redaction has nothing to find in it;
    // it is switched off for this line only, where its wildcard paths measured as half a line's cost.
    this.#accessLog = logger.child({}, { redact: { paths: [] } });
  }

  started(): number {
    this.#metrics.inFlight.inc();
    return performance.now();
  }

  finished(request: ObservedRequest, startedAt: number): void {
    this.#metrics.inFlight.dec();
    const seconds = (performance.now() - startedAt) / 1000;
    const labels = this.#count(request);
    this.#metrics.duration.observe(labels, seconds);
    this.#log(request, labels.method, seconds);
  }

  /**
   * A request answered synchronously without touching anything (the liveness probe): counted and logged,
   * but not timed. Its duration would be a constant few microseconds, the latency alert and dashboards
   * leave probes out, and observing the histogram measured as a large share of the probe's cost.
   */
  answeredAtOnce(request: ObservedRequest): void {
    const { method } = this.#count(request);
    this.#log(request, method, 0);
  }

  #count(request: ObservedRequest) {
    const method = KNOWN_METHODS.has(request.method) ? request.method : 'OTHER';
    const labels = { method, route: request.route, status_code: String(request.status) };
    this.#metrics.requests.inc(labels);
    return labels;
  }

  /**
   * Kubernetes calls the probes every few seconds per pod: their successes are logged at debug, not info.
   * A `503` is a refusal to retry (shedding, a dependency down, whose cause is logged once on its own):
   * `warn`, so a flood of sheds cannot pass for a flood of failures.
   */
  #log(request: ObservedRequest, method: string, seconds: number): void {
    const { route, status } = request;
    const level =
      status === 503
        ? 'warn'
        : status >= 500
          ? 'error'
          : status < 400 && PROBE_PATHS.has(route)
            ? 'debug'
            : 'info';
    if (!this.#accessLog.isLevelEnabled(level)) return;
    const entry = {
      req_id: request.requestId,
      method,
      route,
      // A token someone put in the URL (refused with 400 by authentication) is never written down.
      path: mentionsAccessToken(request.path) ? '(redacted: it carries a bearer token)' : request.path,
      status,
      duration_ms: Math.round(seconds * 1e5) / 100,
      ...(request.subject === undefined ? {} : { subject: request.subject }),
    };
    // 499: the client went away before its request was read (error-handler.ts); nothing failed here.
    this.#accessLog[level](entry, status === 499 ? 'client closed request' : 'request completed');
  }
}
