import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../test-app.js';

const john = { name: 'John Doe', email: 'john.doe@example.com', age: 30 };

describe('POST /api/v1/users', () => {
  it('when the body is valid, then it creates the user and answers 201 with it', async () => {
    const { client } = buildTestApp();
    const res = await client.post<{ id: string; email: string; age: number }>('/api/v1/users', john);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'John Doe', email: 'john.doe@example.com', age: 30 });
    const fetched = await client.get(`/api/v1/users/${res.body.id}`);
    expect(fetched.body).toEqual(res.body);
  });
});
