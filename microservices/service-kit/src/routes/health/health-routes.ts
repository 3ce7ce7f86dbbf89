import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Clock } from '../../base/clock.js';
import type { Lifecycle } from '../../base/lifecycle.js';
import { SURFACES } from '../../base/surfaces.js';
import type { AppEnv } from '../../edge/app-env.js';
import { replyJson } from '../../edge/reply.js';
import { OPEN_TO_ALL } from '../openapi/secured.js';
import { type HealthCheck, runChecks } from './checks.js';
import { LIVENESS_PATH, livenessBody } from './liveness-first.js';

export interface HealthOptions {
  service: string;
  version: string;
  checks: readonly HealthCheck[];
  lifecycle: Lifecycle;
  clock: Clock;
  /** Upper bound for each dependency check during a probe. */
  checkTimeoutMs?: number;
}

const CheckSchema = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    latency_ms: z.number(),
    critical: z.boolean(),
    detail: z.string().optional(),
  })
  .openapi('DependencyCheck');

const DependenciesSchema = z
  .record(z.string(), z.enum(['healthy', 'unhealthy']))
  .openapi({ example: { store: 'healthy' } });

const HealthSchema = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    service: z.string(),
    version: z.string(),
    timestamp: z.iso.datetime(),
    uptime_seconds: z.number(),
    draining: z.boolean(),
    dependencies: DependenciesSchema,
    checks: z.record(z.string(), CheckSchema),
  })
  .openapi('Health');

const LiveSchema = z
  .object({ status: z.literal('alive'), service: z.string(), timestamp: z.iso.datetime() })
  .openapi('Liveness');

const ReadySchema = z
  .object({
    status: z.enum(['ready', 'degraded', 'not_ready']),
    service: z.string(),
    timestamp: z.iso.datetime(),
    draining: z.boolean(),
    dependencies: DependenciesSchema,
    checks: z.record(z.string(), CheckSchema),
  })
  .openapi('Readiness');

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const healthRoute = createRoute({
  method: 'get',
  path: SURFACES.probes.health,
  tags: ['Health'],
  security: OPEN_TO_ALL,
  summary: 'Overall health with dependency checks',
  responses: {
    200: json(HealthSchema, 'Healthy'),
    503: json(HealthSchema, 'Cannot serve: shutting down or a critical dependency is down'),
  },
});

const liveRoute = createRoute({
  method: 'get',
  path: LIVENESS_PATH,
  tags: ['Health'],
  security: OPEN_TO_ALL,
  summary: 'Liveness: the process is running. Never checks dependencies.',
  responses: { 200: json(LiveSchema, 'Alive') },
});

const readyRoute = createRoute({
  method: 'get',
  path: SURFACES.probes.ready,
  tags: ['Health'],
  security: OPEN_TO_ALL,
  summary: 'Readiness: whether to route traffic here',
  responses: {
    200: json(ReadySchema, 'Ready, or degraded (a non-critical dependency is down)'),
    503: json(ReadySchema, 'Not ready: shutting down or a critical dependency is down'),
  },
});

/** Registers `/health`, `/health/live` and `/health/ready` with their OpenAPI definitions. */
export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, options: HealthOptions): void {
  const { service, version, lifecycle, clock } = options;
  const startedAt = clock.now();
  const timeoutMs = options.checkTimeoutMs ?? 1_000;

  const evaluate = async (logger: Logger) => {
    const checks = await runChecks(options.checks, timeoutMs, ({ check, error }) =>
      logger.warn({ err: error, check }, 'health check failed'),
    );
    const values = Object.values(checks);
    const criticalDown = values.some((c) => c.critical && c.status === 'unhealthy');
    const degraded = values.some((c) => !c.critical && c.status === 'unhealthy');
    const dependencies = Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, c.status]));
    return { checks, dependencies, canServe: !lifecycle.draining && !criticalDown, degraded };
  };

  // GET is answered by answerLivenessFirst before routing; this serves HEAD and documents the route.
  app.openapi(liveRoute, (c) => replyJson(c, livenessBody(service, clock), 200));

  app.openapi(readyRoute, async (c) => {
    // While draining, answer at once without touching dependencies: the point is to leave rotation fast.
    const result = lifecycle.draining ? null : await evaluate(c.get('logger'));
    const canServe = result?.canServe ?? false;
    const body = {
      status: canServe ? (result?.degraded ? 'degraded' : 'ready') : ('not_ready' as const),
      service,
      timestamp: clock.now().toISOString(),
      draining: lifecycle.draining,
      dependencies: result?.dependencies ?? {},
      checks: result?.checks ?? {},
    } as const;
    return canServe ? replyJson(c, body, 200) : replyJson(c, body, 503);
  });

  app.openapi(healthRoute, async (c) => {
    const result = await evaluate(c.get('logger'));
    const now = clock.now();
    const body = {
      status: result.canServe ? ('healthy' as const) : ('unhealthy' as const),
      service,
      version,
      timestamp: now.toISOString(),
      uptime_seconds: Math.round((now.getTime() - startedAt.getTime()) / 1000),
      draining: lifecycle.draining,
      dependencies: result.dependencies,
      checks: result.checks,
    };
    return result.canServe ? replyJson(c, body, 200) : replyJson(c, body, 503);
  });
}
