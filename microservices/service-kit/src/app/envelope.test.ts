import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../base/lifecycle.js';
import { createMetricsRegistry } from '../base/metrics-registry.js';
import { CORS_EXPOSED_HEADERS } from '../edge/cors.js';
import { carriesStandardHeaders, replyJson } from '../edge/reply.js';
import { AppError, conflict } from '../problems/app-error.js';
import { captureLogger } from '../testing/capture-logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createServiceApp, type ServiceAppParts } from './create-service-app.js';

const answer = {
  description: 'an answer',
  content: { 'application/json': { schema: z.object({}).loose() } },
};
const route = (path: string, method: 'get' | 'post' = 'get') =>
  createRoute({ method, path, responses: { 200: answer, 409: answer } });

function build(parts: Partial<ServiceAppParts> = {}) {
  const log = captureLogger('debug');
  const app = createServiceApp(
    {
      info: { service: 'envelope-test', version: '1.0.0', commit: 'abc' },
      logger: log.logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      clock: new FakeClock('2026-11-22T10:00:00.000Z'),
      lifecycle: new Lifecycle(),
      ...parts,
    },
    { title: 'envelope-test', description: 'test', checks: [] },
  );
  return { app, log };
}

describe('each answer has a header record of its own', () => {
  it('when a reply is built and discarded for an error, the error carries none of its headers', async () => {
    const { app } = build();
    app.openapi(route('/api/things/{id}'), (c) => {
      // A handler that prepares its success answer, then finds it cannot send it.
      replyJson(c, { id: 1 }, 200, { ETag: '"v1"', 'Idempotent-Replayed': 'true' });
      throw conflict('Changed meanwhile.');
    });
    const res = await app.request('/api/things/1');
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('two answers built for one request do not see each other’s headers', async () => {
    const { app } = build();
    let first: Response | undefined;
    app.openapi(route('/api/twice'), (c) => {
      first = replyJson(c, { n: 1 }, 200, { 'X-First': '1' });
      return replyJson(c, { n: 2 }, 200, { 'X-Second': '2' });
    });
    const res = await app.request('/api/twice');
    expect(res.headers.get('x-second')).toBe('2');
    expect(res.headers.get('x-first')).toBeNull();
    expect(first?.headers.get('x-second')).toBeNull();
    expect(first?.headers.get('x-request-id')).toBe(res.headers.get('x-request-id'));
  });
});

describe('plain c.header() in middleware before the handler', () => {
  function withMiddleware() {
    const { app, log } = build();
    app.use('/api/*', async (c, next) => {
      c.header('X-Tenant', 'blue');
      c.header('Vary', 'Accept');
      c.header('Vary', 'Accept-Language', { append: true });
      c.header('X-Frame-Options', 'SAMEORIGIN');
      c.header('X-Dropped', 'soon');
      c.header('X-Dropped', undefined);
      await next();
      c.header('X-After', 'late');
    });
    app.openapi(route('/api/kit'), (c) => replyJson(c, { via: 'kit' }, 200));
    app.openapi(route('/api/fails'), () => {
      throw new AppError({ type: 'conflict', detail: 'No.' });
    });
    app.openapi(route('/api/hono'), (c) => c.json({ via: 'hono' }, 200));
    app.get('/api/moved', (c) => c.redirect('/api/kit', 308));
    return { app, log };
  }

  it.each(['/api/kit', '/api/fails', '/api/hono', '/api/moved', '/api/nowhere'])(
    'reaches the answer of %s, replacing a standard header of the same name',
    async (path) => {
      const { app } = withMiddleware();
      const res = await app.request(path);
      expect(res.headers.get('x-tenant')).toBe('blue');
      expect(res.headers.get('vary')).toBe('Accept, Accept-Language');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('x-dropped')).toBeNull();
      expect(res.headers.get('x-after')).toBe('late');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('a redirect keeps its Location', async () => {
    const { app } = withMiddleware();
    const res = await app.request('/api/moved');
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('/api/kit');
  });

  it('kit replies stay on the fast path: the answer is the reply helper’s own Response', async () => {
    const { app } = build();
    app.use('/api/*', async (c, next) => {
      c.header('X-Tenant', 'blue');
      await next();
    });
    app.openapi(route('/api/kit'), (c) => replyJson(c, { via: 'kit' }, 200));
    expect(carriesStandardHeaders(await app.request('/api/kit'))).toBe(true);
  });

  it('appending a Set-Cookie, which a header record cannot hold, is refused loudly rather than dropped', async () => {
    const { app, log } = build();
    app.use('/api/*', async (c, next) => {
      c.header('Set-Cookie', 'a=1', { append: true });
      await next();
    });
    app.openapi(route('/api/kit'), (c) => replyJson(c, { via: 'kit' }, 200));
    const res = await app.request('/api/kit');
    expect(res.status).toBe(500);
    expect(log.lines().find((l) => l.msg === 'unhandled error')?.err).toMatchObject({
      message: expect.stringContaining('Set-Cookie'),
    });
  });
});

describe('CORS keeps the fast path', () => {
  const ORIGIN = 'https://shop.example';
  function withCors() {
    const { app } = build({ corsOrigins: [ORIGIN] });
    app.openapi(route('/api/kit'), (c) => replyJson(c, { via: 'kit' }, 200));
    return app;
  }
  /** What hono/cors answers for the same options: the reference for the headers. */
  function honoReference() {
    const hono = new Hono();
    hono.use('/api/*', cors({ origin: [ORIGIN], exposeHeaders: [...CORS_EXPOSED_HEADERS] }));
    hono.get('/api/kit', (c) => c.json({ via: 'kit' }));
    return hono;
  }
  const corsHeadersOf = (res: Response) =>
    Object.fromEntries(
      [...res.headers.entries()].filter(([name]) => name.startsWith('access-control-') || name === 'vary'),
    );

  it('a kit reply to an allowed origin is still the reply helper’s own Response, with the CORS headers', async () => {
    const res = await withCors().request('/api/kit', { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(carriesStandardHeaders(res)).toBe(true);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['an allowed origin', { Origin: ORIGIN }],
    ['another origin', { Origin: 'https://evil.example' }],
    ['no origin', {}],
  ])('a simple request from %s gets the CORS headers hono/cors gives', async (_, headers) => {
    const ours = await withCors().request('/api/kit', { headers });
    const reference = await honoReference().request('/api/kit', { headers });
    expect(corsHeadersOf(ours)).toEqual(corsHeadersOf(reference));
  });

  it.each([
    [
      'with requested headers',
      {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type, idempotency-key',
      },
    ],
    ['without', { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' }],
    ['from another origin', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' }],
  ])('a preflight %s is answered as hono/cors answers it, with the standard headers', async (_, headers) => {
    const ours = await withCors().request('/api/kit', { method: 'OPTIONS', headers });
    const reference = await honoReference().request('/api/kit', { method: 'OPTIONS', headers });
    expect(ours.status).toBe(reference.status);
    expect(corsHeadersOf(ours)).toEqual(corsHeadersOf(reference));
    expect(carriesStandardHeaders(ours)).toBe(true);
    expect(ours.headers.get('cache-control')).toBe('no-store');
  });
});
