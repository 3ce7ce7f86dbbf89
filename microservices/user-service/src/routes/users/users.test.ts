import type { Problem } from '@microservices/service-kit';
import type { CheckedClient } from '@microservices/service-kit/testing';
import { FakeClock } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import type { User } from '../../domain/user.js';
import { buildTestApp } from '../../test-app.js';

const USERS = '/api/v1/users';
const john = { name: 'John Doe', email: 'john.doe@example.com', age: 30 };
const jane = { name: 'Jane Roe', email: 'jane.roe@example.com', age: 41 };

/** Creates a user through the API and fails loudly if that did not work, so tests read as their behaviour. */
async function createUser(client: CheckedClient, body: Record<string, unknown> = john): Promise<User> {
  const res = await client.post<User>(USERS, body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const fieldPaths = (problem: Problem) => (problem.errors ?? []).map((e) => e.path);

describe('POST /api/v1/users', () => {
  it('when the body is valid, then it creates the user and answers 201 with it', async () => {
    const { client } = buildTestApp();
    const res = await client.post<User>(USERS, john);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'John Doe', email: 'john.doe@example.com', age: 30 });
    const fetched = await client.get(`${USERS}/${res.body.id}`);
    expect(fetched.body).toEqual(res.body);
  });

  it('when age is omitted, then the user is created with age null', async () => {
    const { client } = buildTestApp();
    const res = await client.post<User>(USERS, { name: 'No Age', email: 'no.age@example.com' });
    expect(res.status).toBe(201);
    expect(res.body.age).toBeNull();
  });

  it('when age is explicitly null, then the user is created with age null', async () => {
    const { client } = buildTestApp();
    const res = await client.post<User>(USERS, { ...john, age: null });
    expect(res.status).toBe(201);
    expect(res.body.age).toBeNull();
  });

  it('when a user is created, then created_at is the clock time in ISO-8601', async () => {
    const clock = new FakeClock('2026-03-04T05:06:07.089Z');
    const { client } = buildTestApp({ clock });
    const user = await createUser(client);
    expect(user.created_at).toBe('2026-03-04T05:06:07.089Z');
  });

  it('when a user is created, then its id comes from the injected id generator', async () => {
    const { client } = buildTestApp({ generateId: () => 'user-42' });
    const user = await createUser(client);
    expect(user.id).toBe('user-42');
  });

  it('when two users are created, then they get different ids', async () => {
    const { client } = buildTestApp();
    const first = await createUser(client, john);
    const second = await createUser(client, jane);
    expect(first.id).not.toBe(second.id);
  });

  it('when the name has surrounding spaces, then they are trimmed', async () => {
    const { client } = buildTestApp();
    const user = await createUser(client, { ...john, name: '  John Doe  ' });
    expect(user.name).toBe('John Doe');
  });

  it('when the email is already used with a different case, then it answers 409 and creates nothing', async () => {
    const { client } = buildTestApp();
    await createUser(client, john);
    const res = await client.post<Problem>(USERS, { ...jane, email: 'John.DOE@Example.com' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe('Email already registered');
    expect(res.body.type).toBe('urn:problem-type:email-taken');
    const all = await client.get<User[]>(USERS);
    expect(all.body).toHaveLength(1);
  });

  it('when the email is not an email address, then it answers 400 naming body.email', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { ...john, email: 'not-an-email' });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['body.email']);
  });

  it('when the name is missing, then it answers 400 naming body.name', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { email: john.email });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['body.name']);
  });

  it.each(['', '   ', 'nul\u0000byte'])(
    'when the name is %j, then it answers 400 naming body.name',
    async (name) => {
      const { client } = buildTestApp();
      const res = await client.post<Problem>(USERS, { ...john, name });
      expect(res.status).toBe(400);
      expect(fieldPaths(res.body)).toEqual(['body.name']);
    },
  );

  it('when the name is longer than 200 characters, then it answers 400', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { ...john, name: 'x'.repeat(201) });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['body.name']);
  });

  it.each([
    ['negative', -1],
    ['fractional', 30.5],
    ['above 150', 151],
    ['a string', '30'],
  ])('when age is %s, then it answers 400 naming body.age', async (_label, age) => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { ...john, age });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['body.age']);
  });

  it('when the body has an unknown field, then it answers 400 naming it', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { name: 'John', email: 'j@example.com', agee: 30 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'body.agee', message: 'Unknown field' }]);
    expect(res.body.detail).toContain('body.agee');
  });

  it('when the body tries to set id or created_at, then it answers 400 naming both', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, {
      ...john,
      id: 'mine',
      created_at: '2000-01-01T00:00:00Z',
    });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body).sort()).toEqual(['body.created_at', 'body.id']);
  });

  it('when several fields are wrong, then every one is named in errors', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, { name: '', email: 'nope', age: -5 });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body).sort()).toEqual(['body.age', 'body.email', 'body.name']);
  });

  it('when the body is a JSON array, then it answers 400', async () => {
    const { client } = buildTestApp();
    const res = await client.post<Problem>(USERS, [john]);
    expect(res.status).toBe(400);
  });

  it('when a create is rejected as invalid, then no user is stored', async () => {
    const { client } = buildTestApp();
    await client.post(USERS, { ...john, age: -1 });
    const all = await client.get<User[]>(USERS);
    expect(all.body).toEqual([]);
  });
});

describe('GET /api/v1/users', () => {
  /** Creates `count` users one clock tick apart and returns them in creation order. */
  async function seedUsers(count: number) {
    const clock = new FakeClock();
    const built = buildTestApp({ clock });
    const users: User[] = [];
    for (let i = 0; i < count; i++) {
      users.push(await createUser(built.client, { name: `User ${i}`, email: `user${i}@example.com` }));
      clock.advance(1_000);
    }
    return { ...built, users };
  }

  it('when there are no users, then it answers 200 with an empty array', async () => {
    const { client } = buildTestApp();
    const res = await client.get<User[]>(USERS);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('when called without paging, then it returns every user oldest first', async () => {
    const { client, users } = await seedUsers(3);
    const res = await client.get<User[]>(USERS);
    expect(res.body).toEqual(users);
  });

  it('when skip and limit are given, then it returns that window of the oldest-first order', async () => {
    const { client, users } = await seedUsers(5);
    const res = await client.get<User[]>(`${USERS}?skip=1&limit=2`);
    expect(res.body.map((u) => u.id)).toEqual([users[1]?.id, users[2]?.id]);
  });

  it('when paging through in pages of 2, then every user appears exactly once', async () => {
    const { client, users } = await seedUsers(5);
    const pages = await Promise.all(
      [0, 2, 4].map((skip) => client.get<User[]>(`${USERS}?skip=${skip}&limit=2`)),
    );
    expect(pages.flatMap((p) => p.body.map((u) => u.id))).toEqual(users.map((u) => u.id));
  });

  it('when skip is past the end, then it returns an empty array', async () => {
    const { client } = await seedUsers(2);
    const res = await client.get<User[]>(`${USERS}?skip=10`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it('when a user is updated, then its position in the list does not change', async () => {
    const { client, users } = await seedUsers(3);
    await client.put(`${USERS}/${users[0]?.id}`, { name: 'Renamed' });
    const res = await client.get<User[]>(USERS);
    expect(res.body.map((u) => u.id)).toEqual(users.map((u) => u.id));
  });

  it.each([1, 1000])('when limit is %i, then it is accepted', async (limit) => {
    const { client } = buildTestApp();
    const res = await client.get(`${USERS}?limit=${limit}`);
    expect(res.status).toBe(200);
  });

  it('when limit is 1, then it returns only the oldest user', async () => {
    const { client, users } = await seedUsers(3);
    const res = await client.get<User[]>(`${USERS}?limit=1`);
    expect(res.body).toEqual([users[0]]);
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
    ['limit=-5', 'query.limit'],
    ['limit=2.5', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['skip=-1', 'query.skip'],
    ['skip=abc', 'query.skip'],
    ['skip=1.5', 'query.skip'],
    ['limit=1e2', 'query.limit'],
    ['limit=0x10', 'query.limit'],
    ['limit=%205', 'query.limit'],
    ['skip=99999999999999999', 'query.skip'],
  ])('when the query is %s, then it answers 400 naming %s', async (query, path) => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`${USERS}?${query}`);
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual([path]);
  });

  it('when the query has an unknown parameter, then it answers 400 naming it', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`${USERS}?offset=10`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'query.offset', message: 'Unknown field' }]);
  });
});

describe('GET /api/v1/users/{user_id}', () => {
  it('when the user exists, then it answers 200 with the user', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.get<User>(`${USERS}/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
  });

  it('when the id is nonexistent-id, then it answers 404 "User not found"', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`${USERS}/nonexistent-id`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('User not found');
  });

  it.each([
    '12345',
    '00000000-0000-0000-0000-000000000000',
    'a%2Fb',
    '%20',
    encodeURIComponent("'; DROP TABLE users; --"),
    '%FF%FE',
    'x'.repeat(2_000),
  ])('when the id is an odd-looking %s, then it still answers 404, never 400 or 500', async (id) => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`${USERS}/${id}`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('User not found');
  });

  it('when the id holds a NUL character, then it answers 400 naming path.user_id (no store could hold it)', async () => {
    const { client } = buildTestApp();
    const res = await client.get<Problem>(`${USERS}/abc%00def`);
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['path.user_id']);
  });
});

describe('PUT /api/v1/users/{user_id}', () => {
  it('when only age is sent, then only age changes', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<User>(`${USERS}/${created.id}`, { age: 31 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...created, age: 31 });
  });

  it('when age is set to null, then the age is cleared', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<User>(`${USERS}/${created.id}`, { age: null });
    expect(res.body).toEqual({ ...created, age: null });
  });

  it('when the update succeeds, then a later GET returns the updated user', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const updated = await client.put<User>(`${USERS}/${created.id}`, { name: 'Johnny' });
    const fetched = await client.get<User>(`${USERS}/${created.id}`);
    expect(fetched.body).toEqual(updated.body);
  });

  it('when the body is empty, then the user is returned unchanged', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<User>(`${USERS}/${created.id}`, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
  });

  it('when the clock has moved, then created_at stays what it was', async () => {
    const clock = new FakeClock();
    const { client } = buildTestApp({ clock });
    const created = await createUser(client);
    clock.advance(60_000);
    const res = await client.put<User>(`${USERS}/${created.id}`, { name: 'Later' });
    expect(res.body.created_at).toBe(created.created_at);
  });

  it.each([
    ['to a free address', 'johnny@example.com'],
    ['only in case (the user’s own email)', 'John.Doe@Example.com'],
  ])('when the email changes %s, then it is allowed and saved as written', async (_how, email) => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<User>(`${USERS}/${created.id}`, { email });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe(email);
  });

  it('when the email changes, then the old email becomes free for someone else', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    await client.put(`${USERS}/${created.id}`, { email: 'johnny@example.com' });
    const res = await client.post(USERS, { ...jane, email: john.email });
    expect(res.status).toBe(201);
  });

  it('when the email changes, then the new email is taken for others', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    await client.put(`${USERS}/${created.id}`, { email: 'johnny@example.com' });
    const res = await client.post(USERS, { ...jane, email: 'JOHNNY@example.com' });
    expect(res.status).toBe(409);
  });

  it('when the new email belongs to another user in a different case, then it answers 409 and changes nothing', async () => {
    const { client } = buildTestApp();
    const first = await createUser(client, john);
    await createUser(client, jane);
    const res = await client.put<Problem>(`${USERS}/${first.id}`, {
      name: 'Changed',
      email: 'JANE.roe@example.com',
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe('Email already registered');
    const fetched = await client.get<User>(`${USERS}/${first.id}`);
    expect(fetched.body).toEqual(first);
  });

  it('when a user re-sends their own email unchanged, then it is allowed', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<User>(`${USERS}/${created.id}`, { email: john.email, age: 32 });
    expect(res.status).toBe(200);
    expect(res.body.age).toBe(32);
  });

  it('when the user does not exist, then it answers 404 "User not found"', async () => {
    const { client } = buildTestApp();
    const res = await client.put<Problem>(`${USERS}/nonexistent-id`, { age: 3 });
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('User not found');
  });

  it('when the user does not exist and the email is taken, then 404 wins over 409', async () => {
    const { client } = buildTestApp();
    await createUser(client);
    const res = await client.put(`${USERS}/nonexistent-id`, { email: john.email });
    expect(res.status).toBe(404);
  });

  it.each([
    ['an invalid email', { email: 'nope' }, ['body.email']],
    ['an empty name', { name: '' }, ['body.name']],
    ['a null name', { name: null }, ['body.name']],
    ['a negative age', { age: -1 }, ['body.age']],
    ['an unknown field', { nmae: 'typo' }, ['body.nmae']],
    ['an id', { id: 'other' }, ['body.id']],
  ])('when the body has %s, then it answers 400 naming the field', async (_label, body, paths) => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.put<Problem>(`${USERS}/${created.id}`, body);
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(paths);
  });
});

describe('DELETE /api/v1/users/{user_id}', () => {
  it('when the user exists, then it answers 204 with no body', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    const res = await client.delete(`${USERS}/${created.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it('when the user was deleted, then GET answers 404', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    await client.delete(`${USERS}/${created.id}`);
    const res = await client.get(`${USERS}/${created.id}`);
    expect(res.status).toBe(404);
  });

  it('when the user was already deleted, then a second DELETE answers 404', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    await client.delete(`${USERS}/${created.id}`);
    const res = await client.delete<Problem>(`${USERS}/${created.id}`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('User not found');
  });

  it('when the user never existed, then it answers 404 "User not found"', async () => {
    const { client } = buildTestApp();
    const res = await client.delete<Problem>(`${USERS}/nonexistent-id`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe('User not found');
  });

  it('when a user is deleted, then their email can be registered again (in any case)', async () => {
    const { client } = buildTestApp();
    const created = await createUser(client);
    await client.delete(`${USERS}/${created.id}`);
    const res = await client.post(USERS, { ...john, email: 'JOHN.DOE@example.com' });
    expect(res.status).toBe(201);
  });

  it('when a user is deleted, then the others are untouched', async () => {
    const { client } = buildTestApp();
    const first = await createUser(client, john);
    const second = await createUser(client, jane);
    await client.delete(`${USERS}/${first.id}`);
    const res = await client.get<User[]>(USERS);
    expect(res.body).toEqual([second]);
  });
});
