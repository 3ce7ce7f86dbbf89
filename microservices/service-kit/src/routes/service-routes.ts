import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import type { Registry } from 'prom-client';
import type { AppEnv } from '../edge/app-env.js';
import { reply, replyJson } from '../edge/reply.js';
import { OPEN_TO_ALL } from './openapi/secured.js';

export interface ServiceInfo {
  /** `user-service` / `order-service`: appears in logs, probes and `/`. */
  service: string;
  version: string;
  /** Commit the build came from; `unknown` for local builds. */
  commit: string;
}

const RootSchema = z
  .object({ service: z.string(), version: z.string(), docs: z.literal('/docs') })
  .openapi('ServiceRoot');
const VersionSchema = z
  .object({ service: z.string(), version: z.string(), commit: z.string() })
  .openapi('ServiceVersion');

const rootRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'Service name, version and where the docs are',
  responses: {
    200: { description: 'Service identity', content: { 'application/json': { schema: RootSchema } } },
  },
});

const versionRoute = createRoute({
  method: 'get',
  path: '/version',
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'Build version and commit',
  responses: {
    200: { description: 'Build identity', content: { 'application/json': { schema: VersionSchema } } },
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'Prometheus metrics (text exposition format)',
  responses: {
    200: {
      description: 'Metrics',
      content: { 'text/plain': { schema: z.string(), example: 'http_requests_total{...} 42' } },
    },
  },
});

/** `/`, `/version` and `/metrics`. */
export function registerServiceRoutes(app: OpenAPIHono<AppEnv>, info: ServiceInfo, registry: Registry): void {
  app.openapi(rootRoute, (c) =>
    replyJson(c, { service: info.service, version: info.version, docs: '/docs' as const }, 200),
  );
  app.openapi(versionRoute, (c) => replyJson(c, { ...info }, 200));
  app.openapi(
    metricsRoute,
    async (c) =>
      reply(c, await registry.metrics(), 200, registry.contentType) as Response &
        TypedResponse<string, 200, 'text'>,
  );
}
