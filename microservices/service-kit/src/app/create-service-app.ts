import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.js';
import { Lifecycle } from '../base/lifecycle.js';
import { SURFACES } from '../base/surfaces.js';
import type { AppEnv } from '../edge/app-env.js';
import { authenticate } from '../edge/auth/authenticate.js';
import type { TokenVerifier } from '../edge/auth/token-verifier.js';
import { requestBodyGuard } from '../edge/body-guard.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../edge/body-limit.js';
import { TrustedProxies } from '../edge/client-address.js';
import { CORS_EXPOSED_HEADERS, corsHeaders } from '../edge/cors.js';
import { errorHandler, notFoundHandler } from '../edge/error-handler.js';
import { createHttpMetrics } from '../edge/http-metrics.js';
import { RequestObserver } from '../edge/observe-requests.js';
import { createRateLimiter, type RateLimitSettings } from '../edge/rate-limit.js';
import { replyJson } from '../edge/reply.js';
import { requestEdge } from '../edge/request-edge.js';
import { defaultSwaggerAssetsDir, registerDocs } from '../routes/docs.js';
import { exportFaultsDisabled, FaultInjector } from '../routes/faults/fault-injector.js';
import { registerFaultRoutes } from '../routes/faults/fault-routes.js';
import type { FaultSettings } from '../routes/faults/fault-settings.js';
import type { HealthCheck } from '../routes/health/checks.js';
import { registerHealthRoutes } from '../routes/health/health-routes.js';
import { answerLivenessFirst } from '../routes/health/liveness-first.js';
import { createRouter } from '../routes/openapi/create-router.js';
import { BEARER_SCHEME, bearerSecurityScheme, OPEN_TO_ALL } from '../routes/openapi/secured.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../routes/paging/page-reply.js';
import { createPager, DEFAULT_MAX_CONCURRENT_LISTS, type Pager } from '../routes/paging/pager.js';
import { registerServiceRoutes, type ServiceInfo } from '../routes/service-routes.js';
import { allowedMethodsFinder } from './allowed-methods.js';

const OpenApiDocumentSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }) })
  .openapi('OpenApiDocument');

const openApiDocumentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['Service'],
  security: OPEN_TO_ALL,
  summary: 'This OpenAPI 3.1 document',
  responses: {
    200: { description: 'The document', content: { 'application/json': { schema: OpenApiDocumentSchema } } },
  },
});

/**
 * What every service's app is built from besides its own business parts. Each service's `createApp` deps
 * extend it; `startService` prepares the configured values in `main.ts`, tests pass what they need.
 */
export interface ServiceAppParts {
  info: ServiceInfo;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /** Default: a fresh one (never draining). */
  lifecycle?: Lifecycle | undefined;
  /** Default: DEFAULT_BODY_LIMIT_BYTES. */
  bodyLimitBytes?: number | undefined;
  /** The most one list answer may weigh; default: DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number | undefined;
  /** List answers built at once; default: DEFAULT_MAX_CONCURRENT_LISTS. */
  maxConcurrentLists?: number | undefined;
  /** Default: none (CORS off). */
  corsOrigins?: readonly string[] | undefined;
  /** Default: swagger-ui-dist in node_modules. */
  docsAssetsDir?: string | undefined;
  /**
   * Bearer-token verification of /api and /admin (AUTH_ENABLED=true); undefined: off, every request has
   * full access.
   */
  tokenVerifier?: TokenVerifier | undefined;
  /** Per-client rate limiting of /api and /admin (RATE_LIMIT_ENABLED=true); undefined: off. */
  rateLimit?: (RateLimitSettings & { trustedProxies: readonly string[] }) | undefined;
  /** Start-up fault settings when fault injection is enabled (FAULTS_ENABLED=true); undefined: off. */
  faults?: FaultSettings | undefined;
  /** Randomness for fault injection; tests pass their own. */
  random?: (() => number) | undefined;
}

/** The pager of a service's list routes, bounded as its parts say (the kit's defaults where they say nothing). */
export function createServicePager(
  parts: Pick<ServiceAppParts, 'maxResponseBytes' | 'maxConcurrentLists' | 'registry'>,
): Pager {
  return createPager({
    maxResponseBytes: parts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxConcurrentLists: parts.maxConcurrentLists ?? DEFAULT_MAX_CONCURRENT_LISTS,
    registry: parts.registry,
  });
}

/** What a service says about itself: its OpenAPI title and description, and its readiness checks. */
export interface ServiceDescription {
  title: string;
  description: string;
  checks: readonly HealthCheck[];
}

/**
 * The part of every service's app that is not its business: request id, metrics, access log,
 * standard response headers (requestEdge), CORS, body limit, problem+json errors, probes, `/metrics`, `/openapi.json`, `/docs`.
 * The service mounts its own routers on the returned app.
 */
export function createServiceApp(parts: ServiceAppParts, service: ServiceDescription): OpenAPIHono<AppEnv> {
  const options = {
    ...parts,
    ...service,
    lifecycle: parts.lifecycle ?? new Lifecycle(),
    bodyLimitBytes: parts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    corsOrigins: parts.corsOrigins ?? [],
    docsAssetsDir: parts.docsAssetsDir ?? defaultSwaggerAssetsDir(),
  };
  const app = createRouter();
  app.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, bearerSecurityScheme);
  app.onError(errorHandler);
  app.notFound(notFoundHandler(allowedMethodsFinder(() => app.routes)));

  const observer = new RequestObserver(createHttpMetrics(options.registry), options.logger);
  const faults = options.faults
    ? new FaultInjector({ settings: options.faults, registry: options.registry, random: options.random })
    : undefined;
  if (!faults) exportFaultsDisabled(options.registry);
  const { api, admin } = SURFACES;
  const limiter = options.rateLimit
    ? createRateLimiter({
        settings: options.rateLimit,
        proxies: new TrustedProxies(options.rateLimit.trustedProxies),
        registry: options.registry,
        now: () => options.clock.now().getTime(),
      })
    : undefined;

  // The middleware stack, in the order a request meets it (GET /health/live is answered before it: see
  // answerLivenessFirst below). A row whose `use` is undefined is switched off by configuration.
  const stack: ReadonlyArray<{
    name: string;
    on: readonly string[];
    use: MiddlewareHandler<AppEnv> | undefined;
  }> = [
    {
      name: 'request edge: request id, logger, header envelope, metrics, access log',
      on: ['*'],
      use: requestEdge({ logger: options.logger, observer, lifecycle: options.lifecycle }),
    },
    {
      // Before authentication: a browser's preflight never carries a token, and a 401 must carry the
      // CORS headers for the page's script to read it.
      name: 'CORS (CORS_ORIGINS)',
      on: [api.pattern],
      use:
        options.corsOrigins.length > 0
          ? corsHeaders({
              origins: options.corsOrigins,
              exposeHeaders: CORS_EXPOSED_HEADERS,
            })
          : undefined,
    },
    {
      // Before the rate limit, which counts per verified subject; refused credentials spend their
      // address's tokens, and an address out of them is refused before its next token is checked.
      name: 'authentication (AUTH_ENABLED): bearer token → principal',
      on: [api.pattern, admin.pattern],
      use: authenticate({
        verifier: options.tokenVerifier,
        realm: options.info.service,
        registry: options.registry,
        refusals: limiter?.refusals,
      }),
    },
    {
      name: 'rate limit (RATE_LIMIT_ENABLED)',
      on: [api.pattern, admin.pattern],
      use: limiter?.middleware,
    },
    { name: 'fault injection (FAULTS_ENABLED)', on: [api.pattern], use: faults?.middleware() },
    {
      // Bodies are read only by API and admin routes.
      name: 'body guard: size limit, strict JSON',
      on: [api.pattern, admin.pattern],
      use: requestBodyGuard(options.bodyLimitBytes),
    },
  ];
  for (const { on, use } of stack) if (use) for (const pattern of on) app.use(pattern, use);

  if (faults) registerFaultRoutes(app, faults);

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
    return replyJson(c, document as z.infer<typeof OpenApiDocumentSchema>, 200);
  });
  answerLivenessFirst(app, {
    service: options.info.service,
    clock: options.clock,
    lifecycle: options.lifecycle,
    observer,
  });
  return app;
}
