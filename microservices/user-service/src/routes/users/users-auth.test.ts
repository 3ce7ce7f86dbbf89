import { TestIdentityProvider } from '@microservices/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../domain/user.js';
import { buildTestApp } from '../../test-app.js';

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await TestIdentityProvider.start();
});
afterAll(() => idp.stop());

/** user-service with authentication on, trusting the test provider, and its workload issuer. */
function build() {
  const tokenVerifier = idp.verifierFor('user-service');
  const { client } = buildTestApp({ tokenVerifier });
  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  return { client, as };
}

const token = (scope: string, claims: Record<string, unknown> = {}) =>
  idp.mint('user-service', { claims: { scope, ...claims } });

async function twoUsers(t: ReturnType<typeof build>) {
  const staff = t.as(await token('users:read users:write'));
  const alice = (
    await t.client.post<User>('/api/v1/users', { name: 'Alice', email: 'alice@example.com' }, staff)
  ).body;
  const bob = (await t.client.post<User>('/api/v1/users', { name: 'Bob', email: 'bob@example.com' }, staff))
    .body;
  return { staff, alice, bob };
}

describe('user-service with authentication on', () => {
  it('when no token is sent, then the API is 401 and the probes, metrics, document, docs and version stay open', async () => {
    const t = build();
    expect((await t.client.get('/api/v1/users')).status).toBe(401);
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json', '/version', '/docs']) {
      expect((await t.client.get(path)).status, path).toBe(200);
    }
  });

  it('when a staff token has the full scopes, then it lists, reads, changes and deletes every user', async () => {
    const t = build();
    const { staff, alice, bob } = await twoUsers(t);
    expect((await t.client.get<User[]>('/api/v1/users', staff)).body.map((u) => u.id)).toEqual([
      alice.id,
      bob.id,
    ]);
    expect((await t.client.put(`/api/v1/users/${bob.id}`, { age: 40 }, staff)).status).toBe(200);
    expect((await t.client.delete(`/api/v1/users/${bob.id}`, staff)).status).toBe(204);
  });

  it('when a customer’s token holds only the :own scopes, then it reaches its own user alone: others are 403 not-owner, the list holds itself, and it cannot create users', async () => {
    const t = build();
    const { alice, bob } = await twoUsers(t);
    const own = t.as(await token('users:read:own users:write:own', { user_id: alice.id }));
    expect((await t.client.get(`/api/v1/users/${alice.id}`, own)).status).toBe(200);
    const other = await t.client.get<{ type: string }>(`/api/v1/users/${bob.id}`, own);
    expect(other.status).toBe(403);
    expect(other.body.type).toBe('urn:problem-type:not-owner');
    expect((await t.client.get<User[]>('/api/v1/users', own)).body.map((u) => u.id)).toEqual([alice.id]);
    expect((await t.client.get<User[]>('/api/v1/users?skip=1', own)).body).toEqual([]);
    expect((await t.client.put(`/api/v1/users/${alice.id}`, { age: 31 }, own)).status).toBe(200);
    expect((await t.client.put(`/api/v1/users/${bob.id}`, { age: 31 }, own)).status).toBe(403);
    expect((await t.client.delete(`/api/v1/users/${bob.id}`, own)).status).toBe(403);
    const create = await t.client.post<{ type: string }>(
      '/api/v1/users',
      { name: 'Eve', email: 'eve@example.com' },
      own,
    );
    expect(create.status).toBe(403);
    expect(create.body.type).toBe('urn:problem-type:insufficient-scope');
    // Bob is untouched.
    const reader = t.as(await token('users:read'));
    expect((await t.client.get<User>(`/api/v1/users/${bob.id}`, reader)).body.age).toBeNull();
  });

  it('when a read-only token changes or deletes, then 403 insufficient-scope before anything is read', async () => {
    const t = build();
    const { alice } = await twoUsers(t);
    const reader = t.as(await token('users:read'));
    expect((await t.client.put(`/api/v1/users/${alice.id}`, { age: 1 }, reader)).status).toBe(403);
    expect((await t.client.delete(`/api/v1/users/${alice.id}`, reader)).status).toBe(403);
    expect((await t.client.put('/api/v1/users/nobody', { age: 1 }, reader)).status).toBe(403);
  });
});
