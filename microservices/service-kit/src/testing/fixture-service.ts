import { createRoute, z } from '@hono/zod-openapi';
import { createServiceApp, type ServiceAppParts } from '../app/create-service-app.js';
import { silentLogger } from '../base/logger.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import { DatabaseUnavailableError } from '../data/postgres/database.js';
import { ensureReaches } from '../edge/auth/authorize.js';
import { replyJson } from '../edge/reply.js';
import { notFound } from '../problems/app-error.js';
import {
  bodyProblemResponses,
  commonProblemResponses,
  problemResponse,
} from '../problems/problem-schemas.js';
import type { HealthCheck } from '../routes/health/checks.js';
import { authProblemResponses, requires } from '../routes/openapi/secured.js';
import { inProcessClient } from './checked-client.js';
import { FakeClock } from './fake-clock.js';

/** What the fixture's GET throws for the id `boom`: a message no client may ever see. */
export const FIXTURE_SECRET_FAILURE = 'db password is hunter2';

const ThingSchema = z.strictObject({ name: z.string().min(1) }).openapi('Thing');
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: ThingSchema } },
});
const body = { body: { content: { 'application/json': { schema: ThingSchema } }, required: true } };
const ThingId = z.object({ id: z.string() });

const createThing = createRoute({
  method: 'post',
  path: '/api/v1/things',
  ...requires('things:write', { own: false }),
  request: body,
  responses: { 201: json('Created'), ...bodyProblemResponses, ...authProblemResponses },
});
const getThing = createRoute({
  method: 'get',
  path: '/api/v1/things/{id}',
  // A thing's id is the user it belongs to: `things:read:own` reads only the token's own.
  ...requires('things:read', { own: true }),
  request: { params: ThingId },
  responses: {
    ...authProblemResponses,
    200: json('The thing'),
    404: problemResponse('not-found'),
    503: problemResponse('service-unavailable'),
    ...commonProblemResponses,
  },
});
const putThing = createRoute({
  method: 'put',
  path: '/api/v1/things/{id}',
  ...requires('things:write', { own: true }),
  request: { params: ThingId, ...body },
  responses: { 200: json('Replaced'), ...bodyProblemResponses, ...authProblemResponses },
});

/**
 * The smallest service built with createServiceApp: one resource with a JSON body, a lookup that can be
 * missing (`missing`), find its dependency unavailable (`unavailable`, a 503) or fail unexpectedly
 * (`boom`); its routes need `things:read`/`things:write` (a thing's id is its owner: `:own` scopes reach
 * only the token's own). Kit behaviour is tested over it, not over a real service's domain. `checks` are its
 * readiness checks (none by default).
 */
export function createFixtureService(
  overrides: Partial<ServiceAppParts> = {},
  checks: readonly HealthCheck[] = [],
) {
  const app = createServiceApp(
    {
      info: { service: 'fixture-service', version: '1.0.0', commit: 'abc1234' },
      logger: silentLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      clock: new FakeClock(),
      ...overrides,
    },
    { title: 'fixture-service', description: 'The kit’s test fixture.', checks },
  );
  app.openapi(createThing, (c) => replyJson(c, c.req.valid('json'), 201));
  app.openapi(getThing, (c) => {
    const { id } = c.req.valid('param');
    ensureReaches(c, id, 'read');
    if (id === 'boom') throw new Error(FIXTURE_SECRET_FAILURE);
    if (id === 'missing') throw notFound('No such thing.');
    if (id === 'unavailable') throw new DatabaseUnavailableError();
    return replyJson(c, { name: id }, 200);
  });
  app.openapi(putThing, (c) => {
    ensureReaches(c, c.req.valid('param').id, 'replace');
    return replyJson(c, c.req.valid('json'), 200);
  });
  return { app, client: inProcessClient(app) };
}
