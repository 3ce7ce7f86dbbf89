import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../edge/app-env.js';
import { replyJson } from '../../edge/reply.js';
import { bodyProblemResponses, commonProblemResponses } from '../../problems/problem-schemas.js';
import { jsonContent } from '../openapi/json-content.js';
import { ADMIN_SCOPE, authProblemResponses, requires } from '../openapi/secured.js';
import { toDelayRange } from './fault-env.js';
import type { FaultInjector } from './fault-injector.js';
import { FAULT_MODES, type FaultSettings, formatDelayRange, MAX_FAULT_DELAY_MS } from './fault-settings.js';

export const FAULTS_ADMIN_PATH = '/admin/faults';

const FaultSettingsSchema = z
  .object({
    mode: z.enum(FAULT_MODES),
    delay_ms: z.object({ min: z.number().int(), max: z.number().int() }),
    error_rate: z.number().min(0).max(1),
  })
  .openapi('FaultSettings');

const DelaySchema = z
  .union([
    z.number().int().min(0).max(MAX_FAULT_DELAY_MS),
    z.string().max(20).openapi({ description: 'A range in ms, low-high', example: '200-800' }),
  ])
  .transform((value, ctx) => toDelayRange(String(value), ctx));

const FaultChangeSchema = z
  .strictObject({
    mode: z.enum(FAULT_MODES),
    delay_ms: DelaySchema.optional().openapi({
      description: 'Delay for mode "slow": fixed ms or a "min-max" range. Unchanged when omitted.',
    }),
    error_rate: z.number().min(0).max(1).optional().openapi({
      description: 'Share of requests mode "error" fails with 500/503. Unchanged when omitted.',
    }),
  })
  .openapi('FaultChange');

const getRoute = createRoute({
  method: 'get',
  path: FAULTS_ADMIN_PATH,
  tags: ['Fault injection'],
  ...requires(ADMIN_SCOPE, { own: false }),
  summary: 'Current fault settings (exists only with FAULTS_ENABLED=true)',
  responses: {
    200: { description: 'Current settings', content: jsonContent(FaultSettingsSchema) },
    ...commonProblemResponses,
    ...authProblemResponses,
  },
});

const putRoute = createRoute({
  method: 'put',
  path: FAULTS_ADMIN_PATH,
  tags: ['Fault injection'],
  ...requires(ADMIN_SCOPE, { own: false }),
  summary: 'Switch the fault mode at run time (exists only with FAULTS_ENABLED=true)',
  request: { body: { required: true, content: jsonContent(FaultChangeSchema) } },
  responses: {
    200: { description: 'The settings now in force', content: jsonContent(FaultSettingsSchema) },
    ...bodyProblemResponses,
    ...authProblemResponses,
  },
});

const toBody = (s: FaultSettings) => ({ mode: s.mode, delay_ms: { ...s.delayMs }, error_rate: s.errorRate });

/** `GET`/`PUT /admin/faults`; registered only when fault injection is enabled. */
export function registerFaultRoutes(app: OpenAPIHono<AppEnv>, injector: FaultInjector): void {
  app.openapi(getRoute, (c) => replyJson(c, toBody(injector.settings), 200));
  app.openapi(putRoute, (c) => {
    const change = c.req.valid('json');
    const before = injector.settings;
    const after: FaultSettings = {
      mode: change.mode,
      delayMs: change.delay_ms ?? before.delayMs,
      errorRate: change.error_rate ?? before.errorRate,
    };
    injector.update(after);
    c.get('logger').warn(
      {
        fault_mode: after.mode,
        fault_delay_ms: formatDelayRange(after.delayMs),
        fault_error_rate: after.errorRate,
        previous_mode: before.mode,
      },
      `fault injection changed: mode ${before.mode} -> ${after.mode}`,
    );
    return replyJson(c, toBody(after), 200);
  });
}
