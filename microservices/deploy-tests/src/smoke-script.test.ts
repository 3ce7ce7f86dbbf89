import { type AddressInfo, createServer } from 'node:net';
import { serve } from '@hono/node-server';
import {
  createDispatcher,
  createMetricsRegistry,
  silentLogger,
  systemClock,
} from '@microservices/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp as buildOrderApp } from '../../order-service/src/test-app.js';
import { createHttpUserClient } from '../../order-service/src/user-client/http-user-client.js';
import { createUserClientMetrics } from '../../order-service/src/user-client/user-client-metrics.js';
import { buildTestApp as buildUserApp } from '../../user-service/src/test-app.js';
import { presetValues, renderObjects } from './support/helm.js';
import { podTemplates } from './support/pod-templates.js';
import { runCommand } from './support/tools.js';

/**
 * The smoke test that the helm test pod and the Argo CD PostSync Job run, executed exactly as rendered
 * (args and env of the rendered container) against both real services over HTTP on 127.0.0.1.
 */
type Server = ReturnType<typeof serve>;
const servers: Server[] = [];
let userUrl = '';
let orderUrl = '';
let userApp: ReturnType<typeof buildUserApp>;
const dispatcher = createDispatcher({ connections: 4, connectTimeoutMs: 1_000, keepAliveTimeoutMs: 5_000 });

async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<string> {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  servers.push(server);
  await new Promise<void>((resolve) =>
    server.listening ? resolve() : server.once('listening', () => resolve()),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  userApp = buildUserApp();
  userUrl = await listen(userApp.app.fetch);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const userClient = createHttpUserClient({
    baseUrl: userUrl,
    dispatcher,
    metrics: createUserClientMetrics(registry),
    logger: silentLogger(),
    resilience: {
      attemptTimeoutMs: 1_000,
      deadlineMs: 2_500,
      retries: 1,
      retryBaseDelayMs: 10,
      breakerThreshold: 5,
      halfOpenAfterMs: 1_000,
    },
  });
  orderUrl = await listen(buildOrderApp({ userClient, registry, clock: systemClock }).app.fetch);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await dispatcher.close();
});

/** The smoke container of the order-service release (it checks both services), as rendered. */
async function renderedSmoke(kind: 'Pod' | 'Job', set: string[] = []) {
  const objects = await renderObjects({
    name: 'order-service',
    release: 'order-service',
    namespace: 'shop',
    valuesFiles: [presetValues('order-service')],
    set: ['smokeTest.postSyncJob.enabled=true', ...set],
  });
  const pod = podTemplates(objects).find(
    (p) => p.owner.kind === kind && p.labels['app.kubernetes.io/component'] === 'smoke-test',
  );
  const container = pod?.spec.containers[0];
  if (!container?.args) throw new Error(`no rendered smoke-test ${kind}`);
  return container as typeof container & { env: Array<{ name: string; value?: string }> };
}

async function runSmoke(args: readonly string[], env: Record<string, string>) {
  return runCommand(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env } });
}

describe('the post-deploy smoke test', () => {
  it('the helm test Pod and the PostSync Job run the same command against the in-cluster Service URLs', async () => {
    const [pod, job] = await Promise.all([renderedSmoke('Pod'), renderedSmoke('Job')]);
    expect(job.args).toEqual(pod.args);
    expect(pod.args?.slice(0, 2)).toEqual(['--input-type=module', '-e']);
    expect(Object.fromEntries(pod.env.map((e) => [e.name, e.value]))).toEqual({
      USER_SERVICE_URL: 'http://user-service.shop.svc.cluster.local:8000',
      ORDER_SERVICE_URL: 'http://order-service.shop.svc.cluster.local:8001',
      SMOKE_TIMEOUT_MS: '120000',
    });
  });

  it('creates a user and an order through the real services, then deletes both', async () => {
    const smoke = await renderedSmoke('Pod');
    const result = await runSmoke(smoke.args ?? [], {
      USER_SERVICE_URL: userUrl,
      ORDER_SERVICE_URL: orderUrl,
      SMOKE_TIMEOUT_MS: '20000',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/created user .*\n.*created order .*\n.*passed/s);
    expect(result.code).toBe(0);
    const users = await (await userApp.app.request('/api/v1/users')).json();
    expect(users).toEqual([]);
  });

  it('read-only (prod): checks both services through the real Services and writes no row', async () => {
    const smoke = await renderedSmoke('Pod', ['smokeTest.readOnly=true']);
    const env = Object.fromEntries(smoke.env.map((e) => [e.name, e.value ?? '']));
    expect(env.SMOKE_READ_ONLY).toBe('true');
    // Every write the services saw: none may happen in read-only mode.
    const writes: string[] = [];
    const original = userApp.app.fetch;
    const recordingUrl = await listen((req) => {
      if (req.method !== 'GET') writes.push(`${req.method} ${new URL(req.url).pathname}`);
      return original(req);
    });
    const result = await runSmoke(smoke.args ?? [], {
      ...env,
      USER_SERVICE_URL: recordingUrl,
      ORDER_SERVICE_URL: orderUrl,
      SMOKE_TIMEOUT_MS: '20000',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/is ready[\s\S]*passed \(read-only\)/);
    expect(result.stdout).not.toMatch(/created/);
    expect(result.code).toBe(0);
    expect(writes).toEqual([]);
    expect(await (await userApp.app.request('/api/v1/users')).json()).toEqual([]);
  });

  it('fails (exit 1, one FAILED line) when a Service URL is wrong (negative)', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const smoke = await renderedSmoke('Job');
    const result = await runSmoke(smoke.args ?? [], {
      USER_SERVICE_URL: userUrl,
      ORDER_SERVICE_URL: `http://127.0.0.1:${closed}`,
      SMOKE_TIMEOUT_MS: '3000',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/smoke: FAILED: .*health\/ready: gave up/);
  });
});
