import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { AppError } from '../errors/app-error.js';
import { errorHandler, notFoundHandler } from '../errors/error-handler.js';
import type { HealthCheck } from '../health/checks.js';
import { registerHealthRoutes } from '../health/health-routes.js';
import type { Lifecycle } from '../health/lifecycle.js';
import type { AppEnv } from '../http/app-env.js';
import { requestBodyLimit } from '../http/body-limit.js';
import { observeRequests } from '../http/observe-requests.js';
import { requestContext } from '../http/request-context.js';
import { createHttpMetrics } from '../metrics/http-metrics.js';
import { createRouter } from './create-router.js';
import { registerDocs } from './docs.js';
import { registerServiceRoutes, type ServiceInfo } from './service-routes.js';

const OpenApiDocumentSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }) })
  .openapi('OpenApiDocument');

const openApiDocumentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['Service'],
  summary: 'This OpenAPI 3.1 document',
  responses: {
    200: { description: 'The document', content: { 'application/json': { schema: OpenApiDocumentSchema } } },
  },
});

export interface ServiceAppOptions {
  info: ServiceInfo;
  /** Title and description of the OpenAPI document. */
  title: string;
  description: string;
  logger: Logger;
  registry: Registry;
  lifecycle: Lifecycle;
  clock: Clock;
  checks: readonly HealthCheck[];
  bodyLimitBytes: number;
  corsOrigins: readonly string[];
  docsAssetsDir: string;
}

/**
 * The part of every service's app that is not its business: request context, metrics, access log,
 * security headers, CORS, body limit, problem+json errors, probes, `/metrics`, `/openapi.json`, `/docs`.
 * The service mounts its own routers on the returned app.
 */
export function createServiceApp(options: ServiceAppOptions): OpenAPIHono<AppEnv> {
  const app = createRouter();
  app.onError(errorHandler);
  app.notFound(notFoundHandler);

  app.use('*', ...requestContext(options.logger));
  app.use('*', observeRequests(createHttpMetrics(options.registry)));
  app.use('*', secureHeaders({ crossOriginResourcePolicy: false, crossOriginOpenerPolicy: false }));
  if (options.corsOrigins.length > 0) {
    app.use(
      '/api/*',
      cors({ origin: [...options.corsOrigins], exposeHeaders: ['X-Request-Id', 'Retry-After'] }),
    );
  }
  app.use(
    '/api/*',
    requestBodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: () => {
        throw new AppError({
          status: 413,
          type: 'payload-too-large',
          title: 'Payload Too Large',
          detail: `Request body exceeds ${options.bodyLimitBytes} bytes.`,
        });
      },
    }),
  );

  registerServiceRoutes(app, options.info, options.registry);
  registerHealthRoutes(app, {
    service: options.info.service,
    version: options.info.version,
    checks: options.checks,
    lifecycle: options.lifecycle,
    clock: options.clock,
  });
  registerDocs(app, { title: `${options.info.service} API`, assetsDir: options.docsAssetsDir });

  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(openApiDocumentRoute, (c) => {
    // Built on first request, after the service has mounted its routers; the route table never changes after.
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: options.title, version: options.info.version, description: options.description },
      servers: [{ url: '/', description: 'This server' }],
    });
    return c.json(document as z.infer<typeof OpenApiDocumentSchema>, 200);
  });
  return app;
}
