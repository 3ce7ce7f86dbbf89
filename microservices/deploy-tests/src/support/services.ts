import { parseOrderServiceEnv } from '../../../order-service/src/env.js';
import { buildTestApp as buildOrderApp } from '../../../order-service/src/test-app.js';
import { parseUserServiceEnv } from '../../../user-service/src/env.js';
import { buildTestApp as buildUserApp } from '../../../user-service/src/test-app.js';
import type { ServiceName } from './helm.js';

/** What the deployment must agree with, read from the real service code (not from the chart). */
export interface ServiceFacts {
  name: ServiceName;
  /** The default listening port from the service's own env parser. */
  port: number;
  /** Paths of the OpenAPI document the running app serves. */
  paths: ReadonlySet<string>;
  /** Status each probe-able path answers on a fresh app (GET). */
  statusOf(path: string): Promise<number>;
}

interface RequestableApp {
  request(path: string): Response | Promise<Response>;
}

async function factsFrom(name: ServiceName, port: number, app: RequestableApp): Promise<ServiceFacts> {
  const res = await app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`${name}: /openapi.json answered ${res.status}`);
  const doc = (await res.json()) as { paths?: Record<string, unknown> };
  return {
    name,
    port,
    paths: new Set(Object.keys(doc.paths ?? {})),
    statusOf: async (path) => (await app.request(path)).status,
  };
}

/** Both services, built in-process the way their own tests build them (fresh app, memory store). */
export async function loadServiceFacts(): Promise<Record<ServiceName, ServiceFacts>> {
  const [user, order] = await Promise.all([
    factsFrom('user-service', parseUserServiceEnv({}).PORT, buildUserApp().app),
    factsFrom('order-service', parseOrderServiceEnv({}).PORT, buildOrderApp().app),
  ]);
  return { 'user-service': user, 'order-service': order };
}
