import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { HttpMetrics } from '../metrics/http-metrics.js';
import type { AppEnv } from './app-env.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * One timing per request feeding both the metrics and the single access-log line.
 * The `route` label is the matched route template, never the raw path, so ids cannot blow up cardinality.
 */
export function observeRequests(metrics: HttpMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    metrics.inFlight.inc();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
      const seconds = (performance.now() - started) / 1000;
      const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER';
      const route = c.get('unmatchedRoute') ? 'unmatched' : routePath(c, -1);
      const status = c.res.status;
      const labels = { method, route, status_code: String(status) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      const log = c.get('logger');
      const entry = { method, route, path: c.req.path, status, duration_ms: Math.round(seconds * 1e5) / 100 };
      if (status >= 500) log.error(entry, 'request completed');
      else log.info(entry, 'request completed');
    }
  };
}
