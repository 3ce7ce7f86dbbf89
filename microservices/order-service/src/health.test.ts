import { Lifecycle } from '@microservices/service-kit';
import { describe, expect, it, vi } from 'vitest';
import { MemoryOrderStore } from './store/memory-order-store.js';
import { buildTestApp } from './test-app.js';

/** A store that holds data but whose health check fails, as when the database stops answering. */
class UnreachableStore extends MemoryOrderStore {
  override async check(): Promise<void> {
    throw new Error('connection refused');
  }
}

type Probe = {
  status: string;
  service: string;
  timestamp: string;
  draining?: boolean;
  dependencies?: Record<string, string>;
  checks?: Record<string, { status: string; critical: boolean; detail?: string }>;
};

// The store as a critical check (down: 503 not_ready, /health 503, live 200, no leaked message) is the
// shared contract's (contract.test.ts); the kit's probe behaviour is tested over its fixture service.
describe('GET /health/ready', () => {
  it('when the store and user-service are up, then it answers 200 ready with both healthy', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ready',
      service: 'order-service',
      timestamp: '2026-01-01T00:00:00.000Z',
      draining: false,
      dependencies: { store: 'healthy', 'user-service': 'healthy' },
    });
  });

  it('when user-service is not ready, then it answers 200 degraded with user-service unhealthy', async () => {
    const { client, users } = buildTestApp();
    users.ready = false;
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.dependencies).toEqual({ store: 'healthy', 'user-service': 'unhealthy' });
    expect(res.body.checks?.['user-service']).toMatchObject({ status: 'unhealthy', critical: false });
  });

  it('when draining, then it answers 503 not_ready without asking user-service', async () => {
    const lifecycle = new Lifecycle();
    const { client, users } = buildTestApp({ lifecycle });
    const checkReady = vi.spyOn(users, 'checkReady');
    lifecycle.beginDrain();
    const res = await client.get<Probe>('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', draining: true });
    expect(checkReady).not.toHaveBeenCalled();
  });

  it('when user-service recovers, then the next probe answers ready again', async () => {
    const { client, users } = buildTestApp();
    users.ready = false;
    const first = await client.get<Probe>('/health/ready');
    users.ready = true;
    const second = await client.get<Probe>('/health/ready');
    expect([first.body.status, second.body.status]).toEqual(['degraded', 'ready']);
  });
});

describe('GET /health', () => {
  it('when user-service is down, then it still answers 200 healthy naming user-service unhealthy', async () => {
    const { client, users } = buildTestApp();
    users.ready = false;
    const res = await client.get<Probe>('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'healthy',
      service: 'order-service',
      dependencies: { store: 'healthy', 'user-service': 'unhealthy' },
    });
  });

  it('when draining, then it answers 503 unhealthy', async () => {
    const lifecycle = new Lifecycle();
    lifecycle.beginDrain();
    const { client } = buildTestApp({ lifecycle });
    const res = await client.get<Probe>('/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unhealthy');
  });
});

describe('GET /health/live', () => {
  it('when user-service and the store are down, then it still answers 200 alive', async () => {
    const { client, users } = buildTestApp({ store: new UnreachableStore() });
    users.ready = false;
    const res = await client.get<Probe>('/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('alive');
  });
});
