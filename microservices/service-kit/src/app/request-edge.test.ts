import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../base/lifecycle.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import { replyJson } from '../edge/reply.js';
import { API_CONTENT_SECURITY_POLICY } from '../edge/security-headers.js';
import { createRouter } from '../routes/openapi/create-router.js';
import { captureLogger } from '../testing/capture-logger.js';
import { inProcessClient } from '../testing/checked-client.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createServiceApp } from './create-service-app.js';

const jsonAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: z.object({ via: z.string() }) } },
});
const route = (path: string) =>
  createRoute({ method: 'get', path, responses: { 200: jsonAnswer('an answer') } });

const STANDARD = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-permitted-cross-domain-policies': 'none',
  'origin-agent-cluster': '?1',
  'content-security-policy': API_CONTENT_SECURITY_POLICY,
};
/** What `/api/*` answers carry on top: they hold personal data no cache may keep. */
const API = { ...STANDARD, 'cache-control': 'no-store' };

/** A service app with one route answering through the kit's reply helper and one through Hono's `c.json`. */
function build() {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const lifecycle = new Lifecycle();
  const log = captureLogger('debug');
  const app = createServiceApp(
    {
      info: { service: 'kit-test', version: '1.0.0', commit: 'abc' },
      logger: log.logger,
      registry,
      clock: new FakeClock('2026-11-22T10:00:00.000Z'),
      lifecycle,
    },
    { title: 'kit-test', description: 'test', checks: [] },
  );
  // Plain Hono middleware: a header set before the handler must reach every kind of answer.
  app.use('/api/*', async (c, next) => {
    c.header('X-Added-Before', 'yes');
    await next();
  });
  app.openapi(route('/api/kit'), (c) => replyJson(c, { via: 'kit' }, 200, { 'X-Extra': 'extra' }));
  app.openapi(route('/api/hono'), (c) => c.json({ via: 'hono' }, 200, { 'X-Frame-Options': 'SAMEORIGIN' }));
  const metrics = async () => (await registry.metrics()).split('\n');
  return { app, client: inProcessClient(app), lifecycle, log, metrics };
}

const headersOf = (res: { headers: Headers }) => Object.fromEntries(res.headers.entries());

describe('request edge: standard headers on every answer', () => {
  it('answers built by the reply helper carry them, their own headers and those added before the handler', async () => {
    const { client } = build();
    const res = await client.get('/api/kit', { headers: { 'X-Request-Id': 'trace-1' } });
    expect(res.status).toBe(200);
    expect(headersOf(res)).toEqual({
      ...API,
      'content-type': 'application/json',
      'x-request-id': 'trace-1',
      'x-extra': 'extra',
      'x-added-before': 'yes',
    });
  });

  it('answers built any other way get the ones they lack, without losing their own', async () => {
    const { client } = build();
    const res = await client.get('/api/hono');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-type')).toBe('application/json');
    const { 'x-frame-options': _, ...others } = API;
    expect(headersOf(res)).toMatchObject(others);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('problems and unmatched paths carry them too', async () => {
    const { client } = build();
    const res = await client.get('/api/nowhere', { headers: { 'X-Request-Id': 'trace-2' } });
    expect(res.status).toBe(404);
    expect(headersOf(res)).toMatchObject({ ...API, 'x-request-id': 'trace-2' });
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('says Connection: close on every answer once draining has begun', async () => {
    const { client, lifecycle } = build();
    expect((await client.get('/api/kit')).headers.get('connection')).toBeNull();
    lifecycle.beginDrain();
    for (const path of ['/api/kit', '/api/hono', '/health/live', '/api/nowhere']) {
      expect((await client.get(path)).headers.get('connection'), path).toBe('close');
    }
  });
});

describe('request edge: caching', () => {
  it('API answers and problems say Cache-Control: no-store; probes, metrics and the document do not', async () => {
    const { client } = build();
    for (const path of ['/api/kit', '/api/hono', '/api/nowhere']) {
      expect((await client.get(path)).headers.get('cache-control'), path).toBe('no-store');
    }
    for (const path of ['/health/live', '/health/ready', '/openapi.json']) {
      expect((await client.get(path)).headers.get('cache-control'), path).toBeNull();
    }
  });
});

describe('reply helpers outside a service app', () => {
  it('still write the security headers, and no request id they do not know', async () => {
    const bare = createRouter();
    bare.openapi(route('/api/bare'), (c) => replyJson(c, { via: 'bare' }, 200));
    const res = await bare.request('/api/bare');
    expect(headersOf(res)).toEqual({ ...API, 'content-type': 'application/json' });
  });
});

describe('liveness, answered before routing', () => {
  it('answers the documented body with the standard headers and the caller’s request id', async () => {
    const { client } = build();
    const res = await client.get('/health/live', { headers: { 'X-Request-Id': 'kubelet-1' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'alive', service: 'kit-test', timestamp: '2026-11-22T10:00:00.000Z' });
    expect(headersOf(res)).toEqual({
      ...STANDARD,
      'content-type': 'application/json',
      'x-request-id': 'kubelet-1',
    });
  });

  it('replaces an unacceptable request id instead of refusing the probe', async () => {
    const { client } = build();
    const res = await client.get('/health/live', { headers: { 'X-Request-Id': 'x'.repeat(200) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is counted, logged at debug and not timed; HEAD takes the routed path', async () => {
    const { app, client, log, metrics } = build();
    await client.get('/health/live');
    await client.get('/health/live?verbose=1');
    expect((await app.request('/health/live', { method: 'HEAD' })).status).toBe(200);
    const value = async (series: string) =>
      (await metrics())
        .find((l) => l.startsWith(`${series} `))
        ?.split(' ')
        .at(-1);
    const labels = (method: string) => `{method="${method}",route="/health/live",status_code="200"}`;
    expect(await value(`http_requests_total${labels('GET')}`)).toBe('2');
    expect(await value(`http_request_duration_seconds_count${labels('GET')}`)).toBeUndefined();
    expect(await value(`http_requests_total${labels('HEAD')}`)).toBe('1');
    expect(await value(`http_request_duration_seconds_count${labels('HEAD')}`)).toBe('1');
    const lines = log.lines().filter((l) => l.msg === 'request completed' && l.route === '/health/live');
    expect(lines.map((l) => [l.method, l.level])).toEqual([
      ['GET', 'debug'],
      ['GET', 'debug'],
      ['HEAD', 'debug'],
    ]);
  });

  it('API requests are logged at info, with the request id on the line', async () => {
    const { client, log } = build();
    await client.get('/api/kit', { headers: { 'X-Request-Id': 'trace-3' } });
    expect(log.lines().filter((l) => l.msg === 'request completed' && l.path === '/api/kit')).toEqual([
      expect.objectContaining({ level: 'info', req_id: 'trace-3', route: '/api/kit', status: 200 }),
    ]);
  });
});
