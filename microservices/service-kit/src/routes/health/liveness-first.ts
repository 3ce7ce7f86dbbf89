import type { OpenAPIHono } from '@hono/zod-openapi';
import { getPath } from 'hono/utils/url';
import type { Clock } from '../../base/clock.js';
import type { Lifecycle } from '../../base/lifecycle.js';
import { SURFACES } from '../../base/surfaces.js';
import type { AppEnv } from '../../edge/app-env.js';
import { standardHeadersFor } from '../../edge/envelope.js';
import type { RequestObserver } from '../../edge/observe-requests.js';
import { resolveRequestId } from '../../edge/request-id.js';

export const LIVENESS_PATH = SURFACES.probes.live;

export interface LivenessOptions {
  service: string;
  clock: Clock;
  lifecycle: Lifecycle;
  observer: RequestObserver;
}

/** The liveness answer: the process is running. Never touches a dependency. */
export const livenessBody = (service: string, clock: Clock) => ({
  status: 'alive' as const,
  service,
  timestamp: clock.now().toISOString(),
});

/**
 * Answers `GET /health/live` before Hono routes the request: the kubelet calls it every few seconds on
 * every pod, and it needs none of the middleware (no body, no validation, no faults, nothing that can
 * fail). It still gets what every answer gets: the request id (the caller's when acceptable), the
 * standard headers, `Connection: close` while draining, a count in `http_requests_total` and, at debug
 * level, the access line (not the latency histogram: see RequestObserver.answeredAtOnce). Without the
 * middleware chain it also stays synchronous, which @hono/node-server writes out on its fastest path.
 * Wraps `app.fetch`, so `app.request()` in tests takes the same path as the server. The route stays
 * registered in the app for its OpenAPI definition and for `HEAD`.
 */
export function answerLivenessFirst(app: OpenAPIHono<AppEnv>, options: LivenessOptions): void {
  const { service, clock, lifecycle, observer } = options;
  const routed = app.fetch;
  app.fetch = (request, env, executionContext) => {
    if (request.method !== 'GET' || getPath(request) !== LIVENESS_PATH) {
      return routed(request, env, executionContext);
    }
    const { id } = resolveRequestId(request.headers.get('x-request-id') ?? undefined);
    const headers = standardHeadersFor('probes', lifecycle.draining)(id);
    headers['Content-Type'] = 'application/json';
    const response = new Response(JSON.stringify(livenessBody(service, clock)), { status: 200, headers });
    observer.answeredAtOnce({
      method: 'GET',
      route: LIVENESS_PATH,
      path: LIVENESS_PATH,
      status: 200,
      requestId: id,
    });
    return response;
  };
}
