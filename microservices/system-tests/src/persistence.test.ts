import {
  createTestDatabase,
  httpClient,
  noPostgresVerdict,
  pollUntil,
  startTestPostgres,
  type TestPostgres,
} from '@microservices/service-kit/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, FAST_RESILIENCE, type Order, type User } from './support/fixtures.js';
import { jsonLogs, waitForLog } from './support/logs.js';
import { LOOPBACK, type RunningService, startService, stopAll } from './support/processes.js';

// Each test gets its own database on one throwaway server, which the outage test stops and restarts.
let server: TestPostgres | null = null;

beforeAll(async () => {
  server = await startTestPostgres();
  if (!server) {
    const message = 'no PostgreSQL binaries and no TEST_DATABASE_URL: persistence system tests cannot run';
    if (noPostgresVerdict() === 'fail') throw new Error(message);
    console.warn(`\n!!! SKIPPING: ${message}\n`);
  }
});
afterAll(async () => server?.dispose());
afterEach(stopAll);
beforeEach((context) => {
  if (!server) context.skip();
});

async function freshDatabase(prefix: string): Promise<string> {
  if (!server) throw new Error('no PostgreSQL server');
  return (await createTestDatabase(server.url, prefix)).url;
}

const dbEnv = (url: string) => ({ DATABASE_URL: url, DB_CONNECT_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' });
/** Two user-service processes sharing one database, and a checked client for each. */
async function twoUserServices(url: string) {
  const processes = await Promise.all([
    startService('user-service', dbEnv(url)),
    startService('user-service', dbEnv(url)),
  ]);
  return { processes, clients: processes.map((p) => httpClient(p.url)) };
}

const migrationLines = (service: RunningService) =>
  jsonLogs(service.logs()).filter((l) => l.component === 'migrations' && Array.isArray(l.applied));

describe('with PostgreSQL', () => {
  it('when user-service and order-service restart, then users and orders are still there', async () => {
    const [usersDb, ordersDb] = [await freshDatabase('users'), await freshDatabase('orders')];
    let users = await startService('user-service', dbEnv(usersDb));
    let orders = await startService('order-service', {
      ...FAST_RESILIENCE,
      ...dbEnv(ordersDb),
      USER_SERVICE_URL: `http://${LOOPBACK}:${users.port}`,
    });
    const user = (await httpClient(users.url).post<User>('/api/v1/users', exampleUser)).body;
    const order = (await httpClient(orders.url).post<Order>('/api/v1/orders', exampleOrder(user.id))).body;
    expect(order.total_amount).toBe(999.99);

    expect((await users.stop()).code).toBe(0);
    expect((await orders.stop()).code).toBe(0);
    users = await startService('user-service', { ...dbEnv(usersDb), PORT: String(users.port) });
    orders = await startService('order-service', {
      ...FAST_RESILIENCE,
      ...dbEnv(ordersDb),
      USER_SERVICE_URL: users.url,
    });

    expect((await httpClient(users.url).get<User>(`/api/v1/users/${user.id}`)).body).toEqual(user);
    expect((await httpClient(orders.url).get<Order>(`/api/v1/orders/${order.id}`)).body).toEqual(order);
    // Restarted services found the schema in place: nothing left to migrate.
    expect(migrationLines(users).map((l) => l.applied)).toEqual([[]]);
  });

  it('when two user-service processes start together on an empty database, then each migration runs exactly once', async () => {
    const url = await freshDatabase('users');
    const { processes } = await twoUserServices(url);
    const applied = processes.flatMap(migrationLines).map((l) => l.applied as string[]);
    expect(applied.flat()).toEqual(['0001_create_users', '0002_user_min_json_bytes']);
    expect(applied).toHaveLength(2);
  });

  it('when retries of one idempotent create hit two processes at once, then exactly one user exists', async () => {
    const url = await freshDatabase('users');
    const { clients } = await twoUserServices(url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        clients[i % 2]?.post<User>('/api/v1/users', exampleUser, {
          headers: { 'Idempotency-Key': 'one-signup' },
        }),
      ),
    );
    expect(answers.map((r) => r?.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((r) => r?.body.id)).size).toBe(1);
    expect((await clients[0]?.get<User[]>('/api/v1/users'))?.body).toHaveLength(1);
  });

  it('when 20 creates with one email race across two processes, then exactly one is 201 and 19 are 409', async () => {
    const url = await freshDatabase('users');
    const { clients } = await twoUserServices(url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        clients[i % 2]?.post('/api/v1/users', {
          ...exampleUser,
          email: i % 3 ? 'Race@Example.com' : 'race@example.com',
        }),
      ),
    );
    const statuses = answers.map((r) => r?.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
  });

  it('when the database stops mid-run, then answers are 503 and readiness 503, and service resumes when it returns', async () => {
    const url = await freshDatabase('users');
    const users = await startService('user-service', dbEnv(url));
    const api = httpClient(users.url);
    const before = (await api.post<User>('/api/v1/users', exampleUser)).body;

    await server?.stop();
    for (let i = 0; i < 10; i++) {
      const res = await api.get('/api/v1/users');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
    }
    expect((await api.post('/api/v1/users', { ...exampleUser, email: 'during@example.com' })).status).toBe(
      503,
    );
    const ready = await api.get<{ status: string }>('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('not_ready');
    expect((await api.get('/health/live')).status).toBe(200);
    // One incident, one log line: not one per failed request.
    const unavailable = jsonLogs(users.logs()).filter(
      (l) => l.msg === 'database unavailable: answering 503 until it is back',
    );
    expect(unavailable).toHaveLength(1);

    await server?.start();
    await pollUntil(
      'user-service to serve again',
      async () => ((await api.get('/health/ready')).status === 200 ? true : undefined),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
      },
    );
    expect((await api.get<User>(`/api/v1/users/${before.id}`)).body).toEqual(before);
    expect((await api.post('/api/v1/users', { ...exampleUser, email: 'after@example.com' })).status).toBe(
      201,
    );
    await waitForLog(users, 'recovery', (l) => l.msg === 'database available again');
    expect(users.process.exitCode).toBeNull();
  });
});
