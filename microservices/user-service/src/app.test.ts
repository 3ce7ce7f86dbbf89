import {
  API_CONTENT_SECURITY_POLICY,
  DOCS_CONTENT_SECURITY_POLICY,
  Lifecycle,
} from '@microservices/service-kit';
import { FakeClock } from '@microservices/service-kit/testing';
import { describe, expect, it, vi } from 'vitest';
import { MemoryUserStore } from './store/memory-user-store.js';
import { buildTestApp } from './test-app.js';

/** A store that is up for data but whose health check fails, as when the database stops answering. */
class UnreachableStore extends MemoryUserStore {
  override async check(): Promise<void> {
    throw new Error('connection refused');
  }
}

type Probe = {
  status: string;
  service: string;
  version?: string;
  timestamp: string;
  uptime_seconds?: number;
  draining?: boolean;
  dependencies?: Record<string, string>;
  checks?: Record<string, { status: string; critical: boolean; detail?: string }>;
};

function drainingApp() {
  const lifecycle = new Lifecycle();
  lifecycle.beginDrain();
  return buildTestApp({ lifecycle });
}

type OpenApiDoc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, ResponseDoc> }>>;
};
type ResponseDoc = { content?: Record<string, unknown> };

/**
 * `/openapi.json`, `/docs` and its assets are deliberately not operations in the OpenAPI document,
 * so the contract-checked client (which only accepts a 404 for undocumented paths) cannot fetch them.
 */
async function rawGet(path: string, built = buildTestApp()) {
  const res = await built.app.request(path);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function openApiDocument(): Promise<OpenApiDoc> {
  const res = await rawGet('/openapi.json');
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as OpenApiDoc;
}

describe('GET /', () => {
  it('when called, then it names the service, its version and where the docs are', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'user-service', version: '1.2.3', docs: '/docs' });
  });
});

describe('GET /version', () => {
  it('when called, then it answers the service, version and commit it was built from', async () => {
    const { client } = buildTestApp({
      info: { service: 'user-service', version: '9.8.7', commit: 'deadbee' },
    });
    const res = await client.get('/version');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'user-service', version: '9.8.7', commit: 'deadbee' });
  });
});

describe('unknown routes', () => {
  it('when the path matches no route, then it answers a 404 problem naming the method and path', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/no/such/thing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, detail: 'No route for GET /no/such/thing' });
  });

  it('when the method is not one the path supports, then it answers a 405 problem with Allow listing the ones it does', async () => {
    const { client } = buildTestApp();
    const res = await client.request('PATCH', '/api/v1/users', { json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});

// Validity, the operations, problem+json errors and operationIds: the shared contract (contract.test.ts).
describe('GET /openapi.json', () => {
  it.each([
    [
      'post',
      '/api/v1/users',
      ['201', '400', '408', '409', '413', '415', '422', '429', '431', '500', '503', '507'],
    ],
    ['get', '/api/v1/users', ['200', '400', '408', '429', '431', '500', '503']],
    ['get', '/api/v1/users/{user_id}', ['200', '400', '404', '408', '429', '431', '500', '503']],
    [
      'put',
      '/api/v1/users/{user_id}',
      ['200', '400', '404', '408', '409', '413', '415', '429', '431', '500', '503', '507'],
    ],
    ['delete', '/api/v1/users/{user_id}', ['204', '400', '404', '408', '429', '431', '500', '503']],
    ['get', '/health/ready', ['200', '503']],
    ['get', '/health', ['200', '503']],
  ])('when fetched, then %s %s documents statuses %j', async (method, path, statuses) => {
    const doc = await openApiDocument();
    expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort()).toEqual(statuses);
  });
});

describe('GET /docs', () => {
  const assetUrls = (html: string) => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');

  it('when fetched, then it answers an HTML page', async () => {
    const res = await rawGet('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('swagger-ui');
  });

  it('when fetched, then the page loads scripts and styles only from this service', async () => {
    const res = await rawGet('/docs');
    const urls = assetUrls(res.text);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toMatch(/^\/docs\/assets\//);
    expect(res.text).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//);
  });

  it('when fetched, then the page runs no inline script and its initializer points Swagger UI at the local /openapi.json', async () => {
    const built = buildTestApp();
    const page = await rawGet('/docs', built);
    expect(page.text).not.toMatch(/<script>|<script\s+(?![^>]*\bsrc=)/);
    const initializer = await rawGet('/docs/assets/swagger-initializer.js', built);
    expect(initializer.status).toBe(200);
    expect(initializer.text).toContain("url: '/openapi.json'");
    expect(initializer.text).toContain('SwaggerUIBundle(');
  });

  it('when fetched, then its Content-Security-Policy allows only same-origin scripts and no framing', async () => {
    const res = await rawGet('/docs');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-inline' 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('when the page’s assets are fetched, then each answers 200 with a JS or CSS content type', async () => {
    const built = buildTestApp();
    const page = await rawGet('/docs', built);
    const urls = assetUrls(page.text);
    const assets = await Promise.all(urls.map((url) => rawGet(url, built)));
    const types = assets.map((a) => [a.status, a.headers.get('content-type')?.split(';')[0]]);
    expect(types.sort()).toEqual([
      [200, 'text/css'],
      [200, 'text/javascript'],
      [200, 'text/javascript'],
    ]);
    // Swagger UI's own files are the real thing, not stubs.
    const dist = assets.filter((_, i) => urls[i]?.includes('/swagger-ui-dist/'));
    expect(dist).toHaveLength(2);
    for (const asset of dist) expect(asset.text.length).toBeGreaterThan(100_000);
  });

  it.each([
    '/docs/assets/swagger-ui-dist/index.html',
    '/docs/assets/swagger-ui-dist/..%2Fpackage.json',
    '/docs/assets/swagger-ui-dist/..%2F..%2F..%2Fpackage.json',
    '/docs/assets/swagger-ui-dist/constructor',
  ])(
    'when an asset outside the allow-list (%s) is requested, then it answers a 404 problem',
    async (path) => {
      const { client } = buildTestApp();
      const res = await client.get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('when an allowed origin calls the API, then the response allows it and exposes X-Request-Id', async () => {
    const { client } = buildTestApp({ corsOrigins: [origin] });
    const res = await client.get('/api/v1/users', { headers: { Origin: origin } });
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/i);
  });

  it('when another origin calls the API, then the response does not allow it', async () => {
    const { client } = buildTestApp({ corsOrigins: [origin] });
    const res = await client.get('/api/v1/users', { headers: { Origin: 'https://evil.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
  });

  it('when no origins are configured, then no CORS headers are sent', async () => {
    const { client } = buildTestApp();
    const res = await client.get('/api/v1/users', { headers: { Origin: origin } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('security headers', () => {
  it.each(['/', '/api/v1/users', '/api/v1/users/missing', '/health/ready', '/metrics', '/nowhere'])(
    'when %s answers, then it carries nosniff, frame denial, no-referrer and a CSP that lets nothing run',
    async (path) => {
      const { client } = buildTestApp();
      const res = await client.get(path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-powered-by')).toBeNull();
    },
  );

  it('when a request is refused early (413), then the refusal carries the headers too', async () => {
    const { client } = buildTestApp({ bodyLimitBytes: 1_024 });
    const res = await client.post('/api/v1/users', { name: 'x'.repeat(2_000), email: 'a@example.com' });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('when /docs and its assets answer, then they carry the docs policy: same-origin scripts only', async () => {
    const { client } = buildTestApp();
    for (const path of ['/docs', '/docs/assets/swagger-initializer.js']) {
      const res = await client.get(path);
      expect(res.headers.get('content-security-policy'), path).toBe(DOCS_CONTENT_SECURITY_POLICY);
    }
  });
});

describe('GET /health', () => {
  it('when the store is up, then it answers 200 healthy with the service identity and clock time', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Probe>('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'healthy',
      service: 'user-service',
      version: '1.2.3',
      timestamp: '2026-01-01T00:00:00.000Z',
      draining: false,
      dependencies: { store: 'healthy' },
    });
  });

  it('when time has passed since the app was built, then uptime_seconds reflects it', async () => {
    const clock = new FakeClock();
    const { client } = buildTestApp({ clock });
    clock.advance(42_000);
    const res = await client.get<Probe>('/health');
    expect(res.body.uptime_seconds).toBe(42);
  });

  it('when the store check fails, then it answers 503 unhealthy naming the store', async () => {
    const { client } = buildTestApp({ store: new UnreachableStore() });
    const res = await client.get<Probe>('/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unhealthy');
    expect(res.body.dependencies).toEqual({ store: 'unhealthy' });
  });

  it('when the service is draining, then every answer asks keep-alive clients to close the connection', async () => {
    const { client } = drainingApp();
    for (const path of ['/api/v1/users', '/health/ready', '/']) {
      expect((await client.get(path)).headers.get('connection'), path).toBe('close');
    }
    expect((await buildTestApp().client.get('/api/v1/users')).headers.get('connection')).toBeNull();
  });

  it('when the service is draining, then it answers 503 unhealthy', async () => {
    const { client } = drainingApp();
    const res = await client.get<Probe>('/health');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'unhealthy', draining: true });
  });
});

describe('GET /health/live', () => {
  it('when the process runs, then it answers 200 alive', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Probe>('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'alive',
      service: 'user-service',
      timestamp: '2026-01-01T00:00:00.000Z',
    });
  });

  it('when the store is down, then it still answers 200 so the pod is not restarted for it', async () => {
    const { client } = buildTestApp({ store: new UnreachableStore() });
    const res = await client.get('/health/live');
    expect(res.status).toBe(200);
  });

  it('when the service is draining, then it still answers 200', async () => {
    const { client } = drainingApp();
    const res = await client.get('/health/live');
    expect(res.status).toBe(200);
  });
});

describe('GET /health/ready', () => {
  it('when the store is up, then it answers 200 ready', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ready',
      service: 'user-service',
      timestamp: '2026-01-01T00:00:00.000Z',
      draining: false,
      dependencies: { store: 'healthy' },
    });
  });

  it('when beginDrain was called, then it answers 503 not_ready', async () => {
    const lifecycle = new Lifecycle();
    const { client } = buildTestApp({ lifecycle });
    lifecycle.beginDrain();
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', draining: true });
  });

  it('when draining, then it answers without running the store check', async () => {
    const store = new MemoryUserStore();
    const check = vi.spyOn(store, 'check');
    const lifecycle = new Lifecycle();
    lifecycle.beginDrain();
    const { client } = buildTestApp({ store, lifecycle });
    await client.get('/health/ready');
    expect(check).not.toHaveBeenCalled();
  });

  it('when the store check rejects, then it answers 503 not_ready with the store unhealthy', async () => {
    const { client } = buildTestApp({ store: new UnreachableStore() });
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('not_ready');
    expect(res.body.dependencies).toEqual({ store: 'unhealthy' });
    expect(res.body.checks?.store).toMatchObject({ status: 'unhealthy', critical: true });
  });

  it('when the store recovers, then the next probe answers 200 again', async () => {
    const store = new MemoryUserStore();
    const check = vi.spyOn(store, 'check').mockRejectedValueOnce(new Error('blip'));
    const { client } = buildTestApp({ store });
    const first = await client.get('/health/ready');
    const second = await client.get('/health/ready');
    expect([first.status, second.status]).toEqual([503, 200]);
    expect(check).toHaveBeenCalledTimes(2);
  });
});

describe('probe bodies never leak internal messages', () => {
  class LeakyCheckStore extends MemoryUserStore {
    override async check(): Promise<void> {
      throw new Error('connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/users');
    }
  }

  it.each(['/health/ready', '/health'])(
    'when the store check fails with an internal message, then the 503 body of %s does not contain it',
    async (path) => {
      const { client } = buildTestApp({ store: new LeakyCheckStore() });
      const res = await client.get(path);
      expect(res.status).toBe(503);
      expect(res.text).not.toContain('hunter2');
      expect(res.text).not.toContain('db.internal');
    },
  );
});
