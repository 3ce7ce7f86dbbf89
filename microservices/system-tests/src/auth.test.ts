import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckedClient, TestIdentityProvider } from '@microservices/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exampleOrder, exampleUser, type Order, type Problem, type User } from './support/fixtures.js';
import { jsonLogs } from './support/logs.js';
import { startPair } from './support/pair.js';
import { stopAll } from './support/processes.js';

// Two real providers on loopback: the organisation's (people and clients) and the cluster's ServiceAccount
// issuer (workloads), both serving discovery and a JWKS with keys made for this run.
let people: TestIdentityProvider;
let cluster: TestIdentityProvider;
const dir = mkdtempSync(join(tmpdir(), 'projected-token-'));
const tokenFile = join(dir, 'token');
const ORDER_SERVICE_SUBJECT = 'system:serviceaccount:shop:order-service';

beforeAll(async () => {
  people = await TestIdentityProvider.start();
  cluster = await TestIdentityProvider.start('ES256');
});
afterAll(async () => {
  await people.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(stopAll);

const as = async (audience: string, scope: string, claims: Record<string, unknown> = {}) => ({
  headers: { authorization: `Bearer ${await people.mint(audience, { claims: { scope, ...claims } })}` },
});

/** The kubelet's projected token for order-service: audience user-service, from the cluster issuer. */
const writeProjectedToken = async (subject = ORDER_SERVICE_SUBJECT) =>
  writeFileSync(tokenFile, await cluster.mint('user-service', { claims: { sub: subject }, typ: 'JWT' }));

/** Both services with authentication on; order-service presents `orderIdentity` to user-service. */
function startSecuredPair(orderIdentity: Record<string, string>) {
  const common = { AUTH_ENABLED: 'true', AUTH_ISSUERS: people.issuer };
  return startPair(
    { ...common, ...orderIdentity },
    {
      ...common,
      AUTH_WORKLOAD_ISSUER: cluster.issuer,
      AUTH_WORKLOAD_SUBJECTS: `${ORDER_SERVICE_SUBJECT}=users:read`,
      AUTH_ALGORITHMS: 'RS256,ES256',
    },
  );
}

/** Alice and Bob, created by a staff client of user-service. */
async function aliceAndBob(userApi: CheckedClient) {
  const staff = await as('user-service', 'users:read users:write');
  const create = async (name: string) =>
    (await userApi.post<User>('/api/v1/users', { ...exampleUser, name, email: `${name}@example.com` }, staff))
      .body;
  return { alice: await create('alice'), bob: await create('bob') };
}

describe('authentication across both services, over the wire', () => {
  it('when order-service presents its projected ServiceAccount token, then customers order for themselves only, and see only their own orders', async () => {
    await writeProjectedToken();
    const { userApi, orderApi, users } = await startSecuredPair({ USER_SERVICE_TOKEN_FILE: tokenFile });
    const { alice, bob } = await aliceAndBob(userApi);
    const customer = await as('order-service', 'orders:read:own orders:write:own', { user_id: alice.id });

    const own = await orderApi.post<Order>('/api/v1/orders', exampleOrder(alice.id), customer);
    expect(own.status).toBe(201);
    const forBob = await orderApi.post<Problem>('/api/v1/orders', exampleOrder(bob.id), customer);
    expect(forBob.status).toBe(403);
    expect(forBob.body.type).toBe('urn:problem-type:not-owner');
    const staffOrders = await as('order-service', 'orders:read orders:write');
    const bobsOrder = await orderApi.post<Order>('/api/v1/orders', exampleOrder(bob.id), staffOrders);
    expect(bobsOrder.status).toBe(201);

    const listed = await orderApi.get<Order[]>('/api/v1/orders', customer);
    expect(listed.body.map((o) => o.id)).toEqual([own.body.id]);
    expect((await orderApi.get(`/api/v1/orders/${bobsOrder.body.id}`, customer)).status).toBe(404);
    // user-service saw order-service's workload subject, never the customer's token.
    const lines = jsonLogs(users.logs()).filter(
      (l) => l.msg === 'request completed' && l.route === '/api/v1/users/:user_id',
    );
    expect(lines.map((l) => l.subject)).toContain(ORDER_SERVICE_SUBJECT);
  });

  it('when the projected token is refused and the kubelet then rewrites the file, then orders are 503 with Retry-After until the new token is read, at once', async () => {
    await writeProjectedToken('system:serviceaccount:shop:not-trusted');
    const { userApi, orderApi, orders } = await startSecuredPair({ USER_SERVICE_TOKEN_FILE: tokenFile });
    const { alice } = await aliceAndBob(userApi);
    const staff = await as('order-service', 'orders:write');
    const refused = await orderApi.post<Problem>('/api/v1/orders', exampleOrder(alice.id), staff);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(jsonLogs(orders.logs()).some((l) => String(l.msg).includes('refused order-service’s token'))).toBe(
      true,
    );
    await writeProjectedToken();
    expect((await orderApi.post('/api/v1/orders', exampleOrder(alice.id), staff)).status).toBe(201);
  });

  it('when order-service uses OAuth2 client credentials, then its token from the provider is accepted by user-service', async () => {
    people.registerClient('order-service', 'client-secret', {
      audience: 'user-service',
      claims: { scope: 'users:read' },
    });
    const { userApi, orderApi } = await startSecuredPair({
      USER_SERVICE_TOKEN_URL: people.tokenEndpoint,
      USER_SERVICE_CLIENT_ID: 'order-service',
      USER_SERVICE_CLIENT_SECRET: 'client-secret',
    });
    const { alice } = await aliceAndBob(userApi);
    const staff = await as('order-service', 'orders:write');
    const before = people.requests.token;
    for (let i = 0; i < 3; i++) {
      expect((await orderApi.post('/api/v1/orders', exampleOrder(alice.id), staff)).status).toBe(201);
    }
    expect(people.requests.token - before).toBe(1);
  });

  it('when a token is missing, then both APIs answer 401 while probes and metrics stay open', async () => {
    await writeProjectedToken();
    const { userApi, orderApi } = await startSecuredPair({ USER_SERVICE_TOKEN_FILE: tokenFile });
    for (const api of [userApi, orderApi]) {
      const path = api === userApi ? '/api/v1/users' : '/api/v1/orders';
      const res = await api.get(path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="(user|order)-service"$/);
      for (const open of ['/health/ready', '/metrics', '/openapi.json', '/version']) {
        expect((await api.get(open)).status, open).toBe(200);
      }
    }
  });
});
