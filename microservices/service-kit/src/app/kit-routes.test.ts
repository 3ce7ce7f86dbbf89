import { describe, expect, it, vi } from 'vitest';
import { Lifecycle } from '../base/lifecycle.js';
import { API_CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY } from '../edge/security-headers.js';
import type { HealthCheck } from '../routes/health/checks.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createFixtureService } from '../testing/fixture-service.js';

// Moved from user-service/src/app.test.ts: the routes every service gets from the kit (/version, /docs, the
// probes) and the headers of its early refusals, tested over the kit's fixture service. What each service
// must show about itself (GET /, its documented statuses, its store as a critical check, CORS, 404/405,
// the standard headers on every kind of answer) is describeServiceContract's (testing/service-contract.ts).
const THINGS = '/api/v1/things';

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

/** A critical readiness check named `store`, as a service's database check, that passes until told not to. */
function storeCheck() {
  const check = { name: 'store', critical: true, run: vi.fn(async () => {}) } satisfies HealthCheck;
  const fail = () => check.run.mockRejectedValue(new Error('connection refused'));
  return { check, fail };
}

function fixtureWithStore(options: { lifecycle?: Lifecycle; clock?: FakeClock } = {}) {
  const store = storeCheck();
  return { ...createFixtureService(options, [store.check]), store };
}

function draining() {
  const lifecycle = new Lifecycle();
  lifecycle.beginDrain();
  return fixtureWithStore({ lifecycle });
}

/**
 * `/openapi.json`, `/docs` and its assets are deliberately not operations in the OpenAPI document, so the
 * contract-checked client (which only accepts a 404 for undocumented paths) cannot fetch them.
 */
async function rawGet(path: string, built = createFixtureService()) {
  const res = await built.app.request(path);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('GET /version', () => {
  it('when called, then it answers the service, version and commit it was built from', async () => {
    const { client } = createFixtureService({
      info: { service: 'fixture-service', version: '9.8.7', commit: 'deadbee' },
    });
    const res = await client.get('/version');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'fixture-service', version: '9.8.7', commit: 'deadbee' });
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
    const built = createFixtureService();
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

  it('when /docs and its assets answer, then they carry the docs policy: same-origin scripts only', async () => {
    const { client } = createFixtureService();
    for (const path of ['/docs', '/docs/assets/swagger-initializer.js']) {
      const res = await client.get(path);
      expect(res.headers.get('content-security-policy'), path).toBe(DOCS_CONTENT_SECURITY_POLICY);
    }
  });

  it('when the page’s assets are fetched, then each answers 200 with a JS or CSS content type', async () => {
    const built = createFixtureService();
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
      const { client } = createFixtureService();
      const res = await client.get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );
});

describe('security headers on early refusals', () => {
  it('when a request is refused early (413), then the refusal carries the headers too', async () => {
    const { client } = createFixtureService({ bodyLimitBytes: 1_024 });
    const res = await client.post(THINGS, { name: 'x'.repeat(2_000) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('GET /health and /health/ready', () => {
  const identity = { service: 'fixture-service', timestamp: '2026-01-01T00:00:00.000Z', draining: false };

  it.each([
    ['/health', 'healthy', { ...identity, version: '1.0.0' }],
    ['/health/ready', 'ready', identity],
  ])(
    'when the checks pass, then %s answers 200 %s with the service identity, clock time and each check',
    async (path, status, body) => {
      const res = await fixtureWithStore().client.get<Probe>(path);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ...body, status, dependencies: { store: 'healthy' } });
    },
  );

  it.each([
    ['/health', 'unhealthy'],
    ['/health/ready', 'not_ready'],
  ])(
    'when a critical check fails, then %s answers 503 %s naming only that check, unhealthy and critical',
    async (path, status) => {
      const { client, store } = fixtureWithStore();
      store.fail();
      const res = await client.get<Probe>(path);
      expect(res.status).toBe(503);
      expect(res.body.status).toBe(status);
      expect(res.body.dependencies).toEqual({ store: 'unhealthy' });
      expect(res.body.checks?.store).toMatchObject({ status: 'unhealthy', critical: true });
    },
  );
});

describe('GET /health', () => {
  it('when time has passed since the app was built, then uptime_seconds reflects it', async () => {
    const clock = new FakeClock();
    const { client } = fixtureWithStore({ clock });
    clock.advance(42_000);
    const res = await client.get<Probe>('/health');
    expect(res.body.uptime_seconds).toBe(42);
  });

  it('when the service is draining, then every answer asks keep-alive clients to close the connection', async () => {
    const { client } = draining();
    for (const path of [`${THINGS}/one`, '/health/ready', '/']) {
      expect((await client.get(path)).headers.get('connection'), path).toBe('close');
    }
    expect((await fixtureWithStore().client.get(`${THINGS}/one`)).headers.get('connection')).toBeNull();
  });

  it('when the service is draining, then it answers 503 unhealthy', async () => {
    const res = await draining().client.get<Probe>('/health');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'unhealthy', draining: true });
  });
});

describe('GET /health/live', () => {
  it('when the process runs, then it answers 200 alive', async () => {
    const res = await fixtureWithStore().client.get<Probe>('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'alive',
      service: 'fixture-service',
      timestamp: '2026-01-01T00:00:00.000Z',
    });
  });

  it('when the service is draining, then it still answers 200', async () => {
    expect((await draining().client.get('/health/live')).status).toBe(200);
  });
});

describe('GET /health/ready', () => {
  it('when beginDrain was called after the app was built, then it answers 503 not_ready', async () => {
    const lifecycle = new Lifecycle();
    const { client } = fixtureWithStore({ lifecycle });
    lifecycle.beginDrain();
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', draining: true });
  });

  it('when draining, then it answers without running the checks', async () => {
    const { client, store } = draining();
    await client.get('/health/ready');
    expect(store.check.run).not.toHaveBeenCalled();
  });

  it('when the check recovers, then the next probe answers 200 again', async () => {
    const { client, store } = fixtureWithStore();
    store.check.run.mockRejectedValueOnce(new Error('blip'));
    const first = await client.get('/health/ready');
    const second = await client.get('/health/ready');
    expect([first.status, second.status]).toEqual([503, 200]);
    expect(store.check.run).toHaveBeenCalledTimes(2);
  });
});
