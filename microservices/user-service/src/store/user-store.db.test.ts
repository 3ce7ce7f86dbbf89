import { idempotencyRequest } from '@microservices/service-kit';
import { describe, expect, it } from 'vitest';
import type { User } from '../domain/user.js';
import { patchUser, type UserPatch } from '../domain/user-patch.js';
import { STORES } from './store-fixtures.js';
import { EmailTakenError, type UserStore } from './user-store.js';

/** Creates without idempotency and unwraps the stored user. */
async function createUser(store: UserStore, user: User): Promise<User> {
  const result = await store.create(user);
  if (result.outcome !== 'created') throw new Error(`expected a create, got ${result.outcome}`);
  return result.value;
}

/** The page a list request gets: the store's rows cut to `limit`, as the reply does, without their positions. */
const pageOf = async (store: UserStore, query: { skip: number; limit: number }) =>
  (await store.list({ ...query, maxBytes: Number.MAX_SAFE_INTEGER }))
    .slice(0, query.limit)
    .map((row) => row.value);

/** The change a PUT with `patch` makes, as the handler passes it to `update`. */
const patched = (patch: UserPatch) => (user: User) => patchUser(user, patch);

let sequence = 0;
const aUser = (overrides: Partial<User> = {}): User => {
  sequence++;
  return {
    id: `u-${sequence}`,
    name: `User ${sequence}`,
    email: `user${sequence}@example.com`,
    age: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
    ...overrides,
  };
};

/** A store holding `count` users, created in order; `user(i)` is the i-th of them. */
async function storeWith(makeStore: () => Promise<UserStore>, count: number) {
  const store = await makeStore();
  const users: User[] = [];
  for (let i = 0; i < count; i++) users.push(await createUser(store, aUser()));
  const user = (index: number): User => {
    const found = users[index];
    if (!found) throw new Error(`no user #${index}`);
    return found;
  };
  return { store, users, user };
}

describe.each(STORES)('%s user store', (_name, makeStore) => {
  describe('UserStore.create', () => {
    it('when the email is free, then it stores the user and returns it', async () => {
      const store = await makeStore();
      const user = aUser();
      expect(await createUser(store, user)).toEqual(user);
      expect(await store.get(user.id)).toEqual(user);
    });

    it('when the email is taken in another case, then it throws EmailTakenError', async () => {
      const store = await makeStore();
      await createUser(store, aUser({ email: 'Same@Example.com' }));
      await expect(createUser(store, aUser({ email: 'same@example.COM' }))).rejects.toBeInstanceOf(
        EmailTakenError,
      );
    });

    it('when a create is refused, then the store is unchanged', async () => {
      const store = await makeStore();
      const first = await createUser(store, aUser({ email: 'same@example.com' }));
      const refused = aUser({ email: 'SAME@example.com' });
      await createUser(store, refused).catch(() => undefined);
      expect(await store.get(refused.id)).toBeNull();
      expect(await pageOf(store, { skip: 0, limit: 10 })).toEqual([first]);
    });

    it('when two creates with one email race, then exactly one wins', async () => {
      const store = await makeStore();
      const results = await Promise.allSettled([
        createUser(store, aUser({ email: 'race@example.com' })),
        createUser(store, aUser({ email: 'RACE@example.com' })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    });

    it('when the caller mutates the object it passed in, then the stored user does not change', async () => {
      const store = await makeStore();
      const input = aUser({ name: 'Original' });
      await createUser(store, input);
      input.name = 'Mutated';
      expect((await store.get(input.id))?.name).toBe('Original');
    });

    it('when the caller mutates the returned user, then the stored user does not change', async () => {
      const store = await makeStore();
      const created = await createUser(store, aUser({ name: 'Original' }));
      created.name = 'Mutated';
      expect((await store.get(created.id))?.name).toBe('Original');
    });
  });

  describe('UserStore.get', () => {
    it('when the id is unknown, then it returns null', async () => {
      const { store } = await storeWith(makeStore, 1);
      expect(await store.get('nonexistent-id')).toBeNull();
    });

    it('when the caller mutates what get returned, then the stored user does not change', async () => {
      const { store, user } = await storeWith(makeStore, 1);
      const id = user(0).id;
      const fetched = await store.get(id);
      if (fetched) fetched.age = 99;
      expect((await store.get(id))?.age).toBeNull();
    });
  });

  describe('UserStore.list', () => {
    it('when more users follow the page, then one row more than the limit comes back, positions ascending', async () => {
      const { store, users } = await storeWith(makeStore, 3);
      const rows = await store.list({ skip: 0, limit: 2, maxBytes: 1_048_576 });
      expect(rows.map((r) => r.value)).toEqual(users);
      const positions = rows.map((r) => r.position);
      expect(new Set(positions).size).toBe(3);
      expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    });

    it('when users are large, then the rows stop once those taken could fill maxBytes, each with a close lower bound of its JSON size', async () => {
      const store = await makeStore();
      for (let i = 0; i < 20; i++) {
        // A name of control characters: six JSON bytes each on the wire.
        await createUser(
          store,
          aUser({ id: `big-${i}`, name: '\u0001'.repeat(200), email: `big-${i}@example.com` }),
        );
      }
      const rows = await store.list({ skip: 0, limit: 1_000, maxBytes: 5_000 });
      // Each user is about 1.3 KB of JSON: 5,000 bytes hold three, and the store gives at least one more.
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.length).toBeLessThanOrEqual(5);
      for (const row of rows) {
        const json = Buffer.byteLength(JSON.stringify(row.value));
        expect(row.minJsonBytes).toBeLessThanOrEqual(json);
        expect(row.minJsonBytes).toBeGreaterThan(json * 0.9);
      }
    });

    it('when every user is as large as the schema allows, then no page carries rows past the byte budget, whatever its limit', async () => {
      const store = await makeStore();
      const largest = (i: number) =>
        aUser({
          id: `${i}`.padEnd(128, '\u0001'),
          name: '\u0001'.repeat(200),
          email: `${i}`.padEnd(254, '\u0001'),
          age: 150,
        });
      for (let i = 0; i < 4; i++) await createUser(store, largest(i));
      const oneUser = Buffer.byteLength(JSON.stringify(largest(0)));
      for (const limit of [1, 2, 3]) {
        for (const maxBytes of [oneUser, 2 * oneUser, 3 * oneUser - 1]) {
          const rows = await store.list({ skip: 0, limit, maxBytes });
          // Rows stop once those taken could fill the budget: all but the last start within it.
          const before = rows.slice(0, -1).reduce((sum, row) => sum + row.minJsonBytes, 0);
          expect(before, `limit ${limit}, ${maxBytes} bytes`).toBeLessThan(maxBytes);
        }
      }
    });

    it('when a user is renamed, then the size listings measure it by follows the new name', async () => {
      const store = await makeStore();
      const { id } = await createUser(store, aUser());
      // Control characters: six JSON bytes each, so the stored size must grow from ~100 to ~1,300.
      await store.update(id, patched({ name: '\u0001'.repeat(200) }));
      const [row] = await store.list({ skip: 0, limit: 1, maxBytes: 1_048_576 });
      const json = Buffer.byteLength(JSON.stringify(row?.value));
      expect(row?.minJsonBytes).toBeLessThanOrEqual(json);
      expect(row?.minJsonBytes).toBeGreaterThan(json * 0.9);
    });

    it('when resuming after a position, then pages chain without gaps or repeats across deletes and creates', async () => {
      const { store, users, user } = await storeWith(makeStore, 4);
      const first = await store.list({ skip: 0, limit: 2, maxBytes: 1_048_576 });
      await store.delete(user(2).id);
      const added = await createUser(store, aUser());
      const rest = await store.list({ skip: 0, limit: 10, after: first[1]?.position, maxBytes: 1_048_576 });
      expect(rest.map((r) => r.value)).toEqual([users[3], added]);
    });

    it('when asked for everything, then it returns users oldest first', async () => {
      const { store, users } = await storeWith(makeStore, 3);
      expect(await pageOf(store, { skip: 0, limit: 100 })).toEqual(users);
    });

    it('when skip and limit are given, then it returns that window', async () => {
      const { store, users } = await storeWith(makeStore, 5);
      expect(await pageOf(store, { skip: 2, limit: 2 })).toEqual(users.slice(2, 4));
    });

    it('when skip is past the end, then it returns an empty page', async () => {
      const { store } = await storeWith(makeStore, 2);
      expect(await pageOf(store, { skip: 5, limit: 10 })).toEqual([]);
    });

    it('when limit exceeds what is left, then it returns the rest', async () => {
      const { store, users } = await storeWith(makeStore, 3);
      expect(await pageOf(store, { skip: 1, limit: 1000 })).toEqual(users.slice(1));
    });

    it('when a user in the middle is deleted, then the order of the rest is kept', async () => {
      const { store, users, user } = await storeWith(makeStore, 3);
      await store.delete(user(1).id);
      expect(await pageOf(store, { skip: 0, limit: 10 })).toEqual([users[0], users[2]]);
    });

    it('when the caller mutates a listed user, then the stored user does not change', async () => {
      const { store, users, user } = await storeWith(makeStore, 1);
      const [listed] = await pageOf(store, { skip: 0, limit: 1 });
      if (listed) listed.name = 'Mutated';
      expect(await store.get(user(0).id)).toEqual(users[0]);
    });
  });

  describe('UserStore.update', () => {
    it('when the id is unknown, then it returns null', async () => {
      const { store } = await storeWith(makeStore, 1);
      expect(await store.update('nonexistent-id', patched({ age: 3 }))).toBeNull();
    });

    it('when a patch is applied, then get returns the patched user', async () => {
      const { store, users, user } = await storeWith(makeStore, 1);
      const id = user(0).id;
      const updated = await store.update(id, patched({ name: 'New Name', age: 40 }));
      expect(updated).toEqual({ ...users[0], name: 'New Name', age: 40 });
      expect(await store.get(id)).toEqual(updated);
    });

    it('when the change is computed, then it is given the stored user', async () => {
      const { store, users, user } = await storeWith(makeStore, 1);
      const seen: User[] = [];
      await store.update(user(0).id, (current) => {
        seen.push(current);
        return current;
      });
      expect(seen).toEqual([users[0]]);
    });

    it('when the change alters id or created_at, then only name, email and age are written', async () => {
      const { store, users, user } = await storeWith(makeStore, 1);
      const id = user(0).id;
      const updated = await store.update(id, (current) => ({
        ...current,
        id: 'another-id',
        created_at: '2000-01-01T00:00:00.000Z',
        age: 7,
      }));
      expect(updated).toEqual({ ...users[0], age: 7 });
      expect(await store.get(id)).toEqual(updated);
      expect(await store.get('another-id')).toBeNull();
    });

    it('when the email changes, then the old one is free and the new one taken', async () => {
      const { store, user } = await storeWith(makeStore, 1);
      const old = user(0).email;
      await store.update(user(0).id, patched({ email: 'moved@example.com' }));
      await expect(createUser(store, aUser({ email: old }))).resolves.toBeDefined();
      await expect(createUser(store, aUser({ email: 'MOVED@example.com' }))).rejects.toBeInstanceOf(
        EmailTakenError,
      );
    });

    it('when only the case of the user’s own email changes, then it is allowed and stored', async () => {
      const { store } = await storeWith(makeStore, 0);
      const user = await createUser(store, aUser({ email: 'me@example.com' }));
      const updated = await store.update(user.id, patched({ email: 'ME@Example.com' }));
      expect(updated?.email).toBe('ME@Example.com');
    });

    it('when only the case of the user’s own email changed, then the address stays taken for others', async () => {
      const { store } = await storeWith(makeStore, 0);
      const user = await createUser(store, aUser({ email: 'me@example.com' }));
      await store.update(user.id, patched({ email: 'ME@Example.com' }));
      await expect(createUser(store, aUser({ email: 'me@example.com' }))).rejects.toBeInstanceOf(
        EmailTakenError,
      );
    });

    it('when the new email belongs to another user, then it throws EmailTakenError and changes nothing', async () => {
      const { store, user } = await storeWith(makeStore, 2);
      const [first, second] = [user(0), user(1)];
      await expect(
        store.update(first.id, patched({ name: 'Changed', email: second.email.toUpperCase() })),
      ).rejects.toBeInstanceOf(EmailTakenError);
      expect(await store.get(first.id)).toEqual(first);
    });

    it('when an email change is refused, then the user keeps their old email reserved', async () => {
      const { store, user } = await storeWith(makeStore, 2);
      const [first, second] = [user(0), user(1)];
      await store.update(first.id, patched({ email: second.email })).catch(() => undefined);
      await expect(createUser(store, aUser({ email: first.email }))).rejects.toBeInstanceOf(EmailTakenError);
    });
  });

  describe('UserStore.delete', () => {
    it('when the user exists, then it returns true and the user is gone', async () => {
      const { store, user } = await storeWith(makeStore, 1);
      const id = user(0).id;
      expect(await store.delete(id)).toBe(true);
      expect(await store.get(id)).toBeNull();
    });

    it('when the user does not exist, then it returns false', async () => {
      const { store } = await storeWith(makeStore, 1);
      expect(await store.delete('nonexistent-id')).toBe(false);
    });

    it('when a user is deleted, then their email is free again', async () => {
      const { store, user } = await storeWith(makeStore, 1);
      await store.delete(user(0).id);
      await expect(createUser(store, aUser({ email: user(0).email.toUpperCase() }))).resolves.toBeDefined();
    });
  });

  describe('UserStore.check and close', () => {
    it('when checked, then it resolves while the store is reachable', async () => {
      await expect((await makeStore()).check()).resolves.toBeUndefined();
    });

    it('when closed, then it resolves', async () => {
      await expect((await makeStore()).close()).resolves.toBeUndefined();
    });
  });

  describe('UserStore idempotency', () => {
    it('when the same key and body repeat, then the first user is replayed and nothing new is stored', async () => {
      const store = await makeStore();
      const request = idempotencyRequest('key-1', { email: 'a@example.com' });
      const first = await store.create(aUser({ email: 'a@example.com' }), request);
      const second = await store.create(aUser({ email: 'a@example.com' }), request);
      expect(first.outcome).toBe('created');
      expect(second).toEqual({
        outcome: 'replayed',
        value: first.outcome === 'created' ? first.value : null,
      });
      expect(await pageOf(store, { skip: 0, limit: 10 })).toHaveLength(1);
    });

    it('when the same key comes with another body, then it is key_reused and nothing is stored', async () => {
      const store = await makeStore();
      await store.create(
        aUser({ email: 'a@example.com' }),
        idempotencyRequest('key-2', { email: 'a@example.com' }),
      );
      const other = aUser({ email: 'b@example.com' });
      const result = await store.create(other, idempotencyRequest('key-2', { email: 'b@example.com' }));
      expect(result).toEqual({ outcome: 'key_reused' });
      expect(await store.get(other.id)).toBeNull();
    });

    it('when 50 duplicates of one key arrive at once, then exactly one user is created', async () => {
      const store = await makeStore();
      const request = idempotencyRequest('key-race', { email: 'race@example.com' });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.create(aUser({ email: 'race@example.com' }), request)),
      );
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(49);
      const ids = new Set(results.map((r) => (r.outcome === 'key_reused' ? null : r.value.id)));
      expect(ids.size).toBe(1);
      expect(await pageOf(store, { skip: 0, limit: 100 })).toHaveLength(1);
    });

    it('when a key is looked up, then it returns the stored hash and user, and null for unknown keys', async () => {
      const store = await makeStore();
      const request = idempotencyRequest('key-3', { n: 1 });
      const created = await store.create(aUser(), request);
      const found = await store.findIdempotencyKey('key-3');
      expect(found?.requestHash).toBe(request?.requestHash);
      expect(found?.value).toEqual(created.outcome === 'created' ? created.value : undefined);
      expect(await store.findIdempotencyKey('no-such-key')).toBeNull();
    });

    it('when a key has expired, then it is forgotten and may be used again', async () => {
      const store = await makeStore();
      const expired = { key: 'key-old', requestHash: 'h1', ttlMs: -1_000 };
      await store.create(aUser(), expired);
      expect(await store.findIdempotencyKey('key-old')).toBeNull();
      const again = await store.create(aUser(), { ...expired, requestHash: 'h2', ttlMs: 60_000 });
      expect(again.outcome).toBe('created');
      expect(await store.purgeExpiredKeys()).toBe(0);
    });

    it('when a create with a key fails on the email, then the key is not consumed', async () => {
      const store = await makeStore();
      await createUser(store, aUser({ email: 'taken@example.com' }));
      const request = idempotencyRequest('key-4', { email: 'taken@example.com' });
      await expect(store.create(aUser({ email: 'TAKEN@example.com' }), request)).rejects.toBeInstanceOf(
        EmailTakenError,
      );
      expect(await store.findIdempotencyKey('key-4')).toBeNull();
    });
  });

  describe('UserStore concurrency', () => {
    it('when 20 creates with one email race, then exactly one succeeds and 19 throw EmailTakenError', async () => {
      const store = await makeStore();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          createUser(store, aUser({ email: i % 2 ? 'dup@example.com' : 'DUP@example.com' })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(19);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(EmailTakenError);
    });

    it('when ids look odd (long, SQL-ish, unicode), then lookups simply find nothing', async () => {
      const store = await makeStore();
      for (const id of ['x'.repeat(2_000), "'; DROP TABLE users; --", 'ü/../%00', '']) {
        expect(await store.get(id)).toBeNull();
        expect(await store.delete(id)).toBe(false);
        expect(await store.update(id, patched({ name: 'x' }))).toBeNull();
      }
    });

    it('when 150 users exist, then paging with skip/limit visits each exactly once, oldest first', async () => {
      const { store, users } = await storeWith(makeStore, 150);
      const seen: User[] = [];
      for (let skip = 0; skip < 160; skip += 40) seen.push(...(await pageOf(store, { skip, limit: 40 })));
      expect(seen.map((u) => u.id)).toEqual(users.map((u) => u.id));
    });
  });
});
