import { TestIdentityProvider } from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../domain/order.js';
import { buildTestApp, FakeUserClient, orderBody } from '../../test-app.js';

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await TestIdentityProvider.start();
});
afterAll(() => idp.stop());

const ALICE = 'alice-id';
const BOB = 'bob-id';

/** order-service with authentication on; alice and bob each have one order, made by staff. */
async function build() {
  const tokenVerifier = idp.verifierFor('order-service');
  const t = buildTestApp({ tokenVerifier, userClient: new FakeUserClient([ALICE, BOB]) });
  const as = async (scope: string, claims: Record<string, unknown> = {}) => ({
    headers: { authorization: `Bearer ${await idp.mint('order-service', { claims: { scope, ...claims } })}` },
  });
  const staff = await as('orders:read orders:write');
  const create = async (userId: string) =>
    (await t.client.post<Order>('/api/v1/orders', orderBody({ user_id: userId }), staff)).body;
  const aliceOrder = await create(ALICE);
  const bobOrder = await create(BOB);
  const alice = await as('orders:read:own orders:write:own', { user_id: ALICE });
  return { ...t, as, staff, alice, aliceOrder, bobOrder };
}

describe('order-service with authentication on: ownership', () => {
  it('when a customer creates an order, then only for the user its token names: for another user, 403 not-owner and nothing is stored', async () => {
    const t = await build();
    expect((await t.client.post('/api/v1/orders', orderBody({ user_id: ALICE }), t.alice)).status).toBe(201);
    const res = await t.client.post<{ type: string }>('/api/v1/orders', orderBody({ user_id: BOB }), t.alice);
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('urn:problem-type:not-owner');
    const bobs = await t.client.get<Order[]>(`/api/v1/orders/user/${BOB}`, t.staff);
    expect(bobs.body.map((o) => o.id)).toEqual([t.bobOrder.id]);
  });

  it('when a customer lists orders, then it gets its own only, whether or not it names itself; naming another user is 403', async () => {
    const t = await build();
    expect((await t.client.get<Order[]>('/api/v1/orders', t.alice)).body.map((o) => o.id)).toEqual([
      t.aliceOrder.id,
    ]);
    expect((await t.client.get<Order[]>(`/api/v1/orders?user_id=${ALICE}`, t.alice)).status).toBe(200);
    expect((await t.client.get(`/api/v1/orders?user_id=${BOB}`, t.alice)).status).toBe(403);
    expect((await t.client.get(`/api/v1/orders/user/${BOB}`, t.alice)).status).toBe(403);
    expect((await t.client.get<Order[]>('/api/v1/orders', t.staff)).body).toHaveLength(2);
  });

  it('when a customer reads, changes or deletes another user’s order, then 404 as if it did not exist, and the order is untouched', async () => {
    const t = await build();
    const path = `/api/v1/orders/${t.bobOrder.id}`;
    expect((await t.client.get(path, t.alice)).status).toBe(404);
    expect((await t.client.put(path, { status: 'cancelled' }, t.alice)).status).toBe(404);
    expect((await t.client.delete(path, t.alice)).status).toBe(404);
    expect((await t.client.get<Order>(path, t.staff)).body).toEqual(t.bobOrder);
    // Its own order it may read and cancel.
    const own = `/api/v1/orders/${t.aliceOrder.id}`;
    expect((await t.client.get(own, t.alice)).status).toBe(200);
    expect((await t.client.put<Order>(own, { status: 'cancelled' }, t.alice)).body.status).toBe('cancelled');
  });

  it('when a token lacks the orders scopes (a users token), then 403 insufficient-scope', async () => {
    const t = await build();
    const res = await t.client.get('/api/v1/orders', await t.as('users:read'));
    expect(res.status).toBe(403);
  });
});
