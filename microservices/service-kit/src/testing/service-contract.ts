import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import type { ServiceAppParts } from '../app/create-service-app.js';
import { API_CONTENT_SECURITY_POLICY } from '../edge/security-headers.js';
import { BEARER_SCHEME } from '../routes/openapi/secured.js';
import { inProcessClient } from './checked-client.js';

type ResponseDoc = { content?: Record<string, unknown> };
type OperationDoc = {
  operationId?: string;
  responses: Record<string, ResponseDoc>;
  security?: Array<Record<string, string[]>>;
};
type OpenApiDoc = {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

/** The routes every service answers through the kit: what each service's document must include. */
const KIT_OPERATIONS = [
  'get /',
  'get /version',
  'get /health',
  'get /health/live',
  'get /health/ready',
  'get /metrics',
] as const;

type TestableApp = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** A readiness or health probe's body, as the kit answers it. */
type ProbeBody = {
  status: string;
  dependencies?: Record<string, string>;
  checks?: Record<string, { status: string; critical: boolean }>;
};

/** What a service tells describeServiceContract about itself: its own table. */
export interface ServiceContractTable {
  service: string;
  version: string;
  /** A fresh app of the service, from test parts with `overrides` (CORS origins, lifecycle, …). */
  build: (overrides?: Partial<ServiceAppParts>) => { app: TestableApp };
  /** A fresh app whose store is up for data but whose health check rejects with `failure`. */
  buildWithStoreDown: (failure: Error) => { app: TestableApp };
  /** Each operation's documented statuses, all of them: `['post', '/api/v1/users', ['201', '400', …]]`. */
  documentedStatuses: ReadonlyArray<readonly [method: string, path: string, statuses: readonly string[]]>;
  /** Its own operations (`post /api/v1/users`), each of which the document must have. */
  operations: readonly string[];
  /** The operationIds of its `/api` operations, all of them. */
  operationIds: readonly string[];
  /** A GET on the API that answers 200 with no set-up (a list). */
  apiList: string;
  /** A GET on the API for something that does not exist: a 404 problem. */
  apiMissing: string;
  /** A method the path does not support, and the `Allow` the 405 must list. */
  methodNotAllowed: { method: string; path: string; allow: string };
}

/**
 * What every service built on the kit must show, as one suite each service calls with its own table: a
 * valid OpenAPI 3.1 document with the kit's routes and the service's own, problem+json errors, Prometheus
 * exposition labelled by route template, the probes, the standard headers on every kind of answer, CORS
 * when configured, and 404/405 problems.
 */
export function describeServiceContract(table: ServiceContractTable): void {
  /** Every answer but the document's own is checked against the service's published document. */
  const client = (overrides?: Partial<ServiceAppParts>) => inProcessClient(table.build(overrides).app);
  const get = <T = unknown>(
    path: string,
    headers?: Record<string, string>,
    overrides?: Partial<ServiceAppParts>,
  ) => client(overrides).get<T>(path, headers === undefined ? {} : { headers });
  /** `/openapi.json` is deliberately not an operation of the document, so it is fetched unchecked. */
  const openApiDocument = async () => {
    const res = await table.build().app.request('/openapi.json');
    expect(res.status).toBe(200);
    return (await res.json()) as OpenApiDoc;
  };

  describe(`${table.service}: the service contract`, () => {
    it('/openapi.json is a valid OpenAPI 3.1 document', async () => {
      const doc = await openApiDocument();
      expect(doc.openapi).toMatch(/^3\.1\./);
      const result = await new Validator().validate(doc);
      expect(result.errors).toBeUndefined();
      expect(result.valid).toBe(true);
    });

    it('Redocly’s security-defined rule passes on the document', async () => {
      const config = await createConfig({ rules: { 'security-defined': 'error' } });
      const problems = await lintFromString({
        source: JSON.stringify(await openApiDocument()),
        absoluteRef: `${table.service}.openapi.json`,
        config,
      });
      expect(
        problems.filter((p) => p.ruleId === 'security-defined').map((p) => p.location[0]?.pointer),
      ).toEqual([]);
    });

    it('every operation declares its security: /api and /admin the bearer scheme with the scopes that admit them, 401 and 403 documented; the rest open', async () => {
      const doc = await openApiDocument();
      expect(doc.components?.securitySchemes?.[BEARER_SCHEME]).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const name = `${method} ${path}`;
          expect(operation.security, name).toBeDefined();
          if (path.startsWith('/api/') || path.startsWith('/admin/')) {
            const scopes = operation.security?.[0]?.[BEARER_SCHEME];
            expect(scopes?.length, name).toBeGreaterThan(0);
            expect(Object.keys(operation.responses), name).toEqual(expect.arrayContaining(['401', '403']));
          } else {
            expect(operation.security, name).toEqual([]);
          }
        }
      }
    });

    it('the document has the kit’s operations and every one of the service’s', async () => {
      const doc = await openApiDocument();
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method} ${path}`),
      );
      expect([...KIT_OPERATIONS, ...table.operations].filter((op) => !documented.includes(op))).toEqual([]);
    });

    it('every documented 4xx/5xx of the API is application/problem+json', async () => {
      const doc = await openApiDocument();
      const errorMediaTypes = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/api/'))
        .flatMap(([, operations]) => Object.values(operations))
        .flatMap((operation) => Object.entries(operation.responses))
        .filter(([status]) => Number(status) >= 400)
        .map(([, response]) => Object.keys(response.content ?? {}));
      expect(errorMediaTypes.length).toBeGreaterThan(0);
      for (const mediaTypes of errorMediaTypes) expect(mediaTypes).toEqual(['application/problem+json']);
    });

    it('every API operation has its own operationId', async () => {
      const doc = await openApiDocument();
      const ids = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/api/'))
        .flatMap(([, operations]) => Object.values(operations).map((o) => o.operationId));
      expect(ids.sort()).toEqual([...table.operationIds].sort());
    });

    it('GET / names the service, its version and where the docs are', async () => {
      const res = await get('/');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ service: table.service, version: table.version, docs: '/docs' });
    });

    it('/metrics answers Prometheus text exposition, API requests labelled by route template', async () => {
      const checked = client();
      await checked.get(table.apiMissing);
      const res = await checked.get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = res.text;
      expect(text).toContain('# TYPE http_requests_total counter');
      expect(text).toContain('# TYPE http_request_duration_seconds histogram');
      expect(text).not.toContain(`path="${table.apiMissing}"`);
    });

    it('the probes answer: live, ready and healthy', async () => {
      const live = await get('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ status: 'alive', service: table.service });
      const ready = await get<ProbeBody>('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', service: table.service, draining: false });
      expect(ready.body.dependencies?.store).toBe('healthy');
      const health = await get('/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'healthy',
        service: table.service,
        version: table.version,
      });
    });

    it.each(['/', '/health/live', '/health/ready', '/metrics', '/nowhere', 'API list', 'API missing'])(
      'the answer of %s carries the request id and the standard security headers',
      async (which) => {
        const path =
          which === 'API list' ? table.apiList : which === 'API missing' ? table.apiMissing : which;
        const res = await get(path, { 'X-Request-Id': 'contract-1' });
        expect(res.headers.get('x-request-id')).toBe('contract-1');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
        expect(res.headers.get('x-powered-by')).toBeNull();
        expect(res.headers.get('cache-control')).toBe(path.startsWith('/api/') ? 'no-store' : null);
      },
    );

    it('a missing resource and an unknown path are 404 problems; a method the path does not support, a 405 problem listing Allow', async () => {
      const missing = await get(table.apiMissing);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      const unmatched = await get('/no/such/thing');
      expect(unmatched.status).toBe(404);
      expect(unmatched.headers.get('content-type')).toBe('application/problem+json');
      expect(unmatched.body).toMatchObject({ status: 404, detail: 'No route for GET /no/such/thing' });
      const { method, path, allow } = table.methodNotAllowed;
      const refused = await client().request(
        method,
        path,
        method === 'GET' || method === 'HEAD' ? {} : { json: {} },
      );
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe(allow);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
    });

    it.each(table.documentedStatuses)(
      'the document lists for %s %s exactly the statuses %j',
      async (method, path, statuses) => {
        const doc = await openApiDocument();
        expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort()).toEqual([...statuses].sort());
      },
    );

    describe('the store is a critical readiness check', () => {
      const secret = 'connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/data';
      const storeDown = () => inProcessClient(table.buildWithStoreDown(new Error(secret)).app);

      it('when its check fails, then readiness answers 503 not_ready naming the store, critical', async () => {
        const res = await storeDown().get<ProbeBody>('/health/ready');
        expect(res.status).toBe(503);
        expect(res.body.status).toBe('not_ready');
        expect(res.body.dependencies).toMatchObject({ store: 'unhealthy' });
        expect(res.body.checks?.store).toMatchObject({ status: 'unhealthy', critical: true });
      });

      it('when its check fails, then /health answers 503 unhealthy naming the store', async () => {
        const res = await storeDown().get<ProbeBody>('/health');
        expect(res.status).toBe(503);
        expect(res.body.status).toBe('unhealthy');
        expect(res.body.dependencies).toMatchObject({ store: 'unhealthy' });
      });

      it('when its check fails, then liveness still answers 200 so the pod is not restarted for it', async () => {
        expect((await storeDown().get('/health/live')).status).toBe(200);
      });

      it.each(['/health/ready', '/health'])(
        'when its check fails with an internal message, then the 503 body of %s does not contain it',
        async (path) => {
          const res = await storeDown().get(path);
          expect(res.status).toBe(503);
          expect(res.text).not.toContain('hunter2');
          expect(res.text).not.toContain('db.internal');
        },
      );
    });

    describe('CORS', () => {
      const origin = 'https://app.example.com';
      it('an allowed origin is allowed, and may read X-Request-Id', async () => {
        const res = await get(table.apiList, { Origin: origin }, { corsOrigins: [origin] });
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/i);
      });
      it('another origin is not allowed', async () => {
        const res = await get(
          table.apiList,
          { Origin: 'https://evil.example.com' },
          { corsOrigins: [origin] },
        );
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
      it('with no origins configured, no CORS headers are sent', async () => {
        const res = await get(table.apiList, { Origin: origin });
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
    });
  });
}
