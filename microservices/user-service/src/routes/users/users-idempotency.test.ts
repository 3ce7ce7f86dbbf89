import { DatabaseUnavailableError, type Positioned } from '@microservices/service-kit';
import { describe, expect, it } from 'vitest';
import type { User } from '../../domain/user.js';
import { MemoryUserStore } from '../../store/memory-user-store.js';
import { buildTestApp } from '../../test-app.js';

const john = { name: 'John Doe', email: 'john.doe@example.com', age: 30 };
const withKey = (key: string) => ({ headers: { 'Idempotency-Key': key } });

describe('POST /api/v1/users with Idempotency-Key', () => {
  it('when the same key and body are sent twice, then the second answer replays the first (not a 409)', async () => {
    const { client } = buildTestApp();
    const first = await client.post<User>('/api/v1/users', john, withKey('k-1'));
    const second = await client.post<User>('/api/v1/users', john, withKey('k-1'));
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await client.get<User[]>('/api/v1/users')).body).toHaveLength(1);
  });

  it('when the same key comes with another body, then it answers 422', async () => {
    const { client } = buildTestApp();
    await client.post('/api/v1/users', john, withKey('k-2'));
    const res = await client.post('/api/v1/users', { ...john, age: 31 }, withKey('k-2'));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      type: 'urn:problem-type:idempotency-key-reused',
      detail: expect.any(String),
    });
  });

  it('when the same body comes without a key, then it is a 409 as before', async () => {
    const { client } = buildTestApp();
    await client.post('/api/v1/users', john, withKey('k-3'));
    expect((await client.post('/api/v1/users', john)).status).toBe(409);
  });

  it('when 20 creates with one email race, then exactly one is 201 and the rest 409', async () => {
    const { client } = buildTestApp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.post('/api/v1/users', { ...john, email: i % 2 ? 'race@example.com' : 'RACE@example.com' }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
  });
});

describe('when the database is unavailable', () => {
  class DownStore extends MemoryUserStore {
    override async list(): Promise<Array<Positioned<User>>> {
      throw new DatabaseUnavailableError();
    }
  }

  it('then the API answers a 503 problem with Retry-After, never a 500', async () => {
    const { client } = buildTestApp({ store: new DownStore() });
    const res = await client.get('/api/v1/users');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.body).toMatchObject({ type: 'urn:problem-type:database-unavailable' });
  });
});
