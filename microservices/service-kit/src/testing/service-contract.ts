import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import type { ServiceAppParts } from '../app/create-service-app.js';
import { API_CONTENT_SECURITY_POLICY } from '../edge/security-headers.js';

type ResponseDoc = { content?: Record<string, unknown> };
type OperationDoc = { operationId?: string; responses: Record<string, ResponseDoc> };
type OpenApiDoc = { openapi: string; paths: Record<string, Record<string, OperationDoc>> };

/** The routes every service answers through the kit: what each service's document must include. */
const KIT_OPERATIONS = [
  'get /',
  'get /version',
  'get /health',
  'get /health/live',
  'get /health/ready',
  'get /metrics',
] as const;

/** What a service tells describeServiceContract about itself: its own table. */
export interface ServiceContractTable {
  service: string;
  version: string;
  /** A fresh app of the service, from test parts with `overrides` (CORS origins, lifecycle, …). */
  build: (overrides?: Partial<ServiceAppParts>) => {
    app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
  };
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
  const get = (path: string, init?: RequestInit, overrides?: Partial<ServiceAppParts>) =>
    Promise.resolve(table.build(overrides).app.request(path, init));
  const openApiDocument = async () => {
    const res = await get('/openapi.json');
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
      expect(await res.json()).toEqual({ service: table.service, version: table.version, docs: '/docs' });
    });

    it('/metrics answers Prometheus text exposition, API requests labelled by route template', async () => {
      const { app } = table.build();
      await app.request(table.apiMissing);
      const res = await app.request('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toContain('# TYPE http_requests_total counter');
      expect(text).toContain('# TYPE http_request_duration_seconds histogram');
      expect(text).not.toContain(`path="${table.apiMissing}"`);
    });

    it('the probes answer: live, ready and healthy', async () => {
      const live = await get('/health/live');
      expect(live.status).toBe(200);
      expect(await live.json()).toMatchObject({ status: 'alive', service: table.service });
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', service: table.service, draining: false });
      const health = await get('/health');
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
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
        const res = await get(path, { headers: { 'X-Request-Id': 'contract-1' } });
        expect(res.headers.get('x-request-id')).toBe('contract-1');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('content-security-policy')).toBe(API_CONTENT_SECURITY_POLICY);
        expect(res.headers.get('x-powered-by')).toBeNull();
        expect(res.headers.get('cache-control')).toBe(path.startsWith('/api/') ? 'no-store' : null);
      },
    );

    it('an unknown path is a 404 problem; a method the path does not support, a 405 listing Allow', async () => {
      const missing = await get(table.apiMissing);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      const { method, path, allow } = table.methodNotAllowed;
      const refused = await get(path, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: method === 'GET' || method === 'HEAD' ? null : '{}',
      });
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe(allow);
    });

    describe('CORS', () => {
      const origin = 'https://app.example.com';
      it('an allowed origin is allowed, and may read X-Request-Id', async () => {
        const res = await get(table.apiList, { headers: { Origin: origin } }, { corsOrigins: [origin] });
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/i);
      });
      it('another origin is not allowed', async () => {
        const res = await get(
          table.apiList,
          { headers: { Origin: 'https://evil.example.com' } },
          { corsOrigins: [origin] },
        );
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
      it('with no origins configured, no CORS headers are sent', async () => {
        const res = await get(table.apiList, { headers: { Origin: origin } });
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      });
    });
  });
}
