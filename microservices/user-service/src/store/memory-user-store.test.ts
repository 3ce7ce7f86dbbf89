import { describe, expect, it } from 'vitest';
import type { User } from '../domain/user.js';
import { MemoryUserStore } from './memory-user-store.js';
import { applyUserPatch, EmailTakenError } from './user-store.js';

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
async function storeWith(count: number) {
  const store = new MemoryUserStore();
  const users: User[] = [];
  for (let i = 0; i < count; i++) users.push(await store.create(aUser()));
  const user = (index: number): User => {
    const found = users[index];
    if (!found) throw new Error(`no user #${index}`);
    return found;
  };
  return { store, users, user };
}

describe('MemoryUserStore.create', () => {
  it('when the email is free, then it stores the user and returns it', async () => {
    const store = new MemoryUserStore();
    const user = aUser();
    expect(await store.create(user)).toEqual(user);
    expect(await store.get(user.id)).toEqual(user);
  });

  it('when the email is taken in another case, then it throws EmailTakenError', async () => {
    const store = new MemoryUserStore();
    await store.create(aUser({ email: 'Same@Example.com' }));
    await expect(store.create(aUser({ email: 'same@example.COM' }))).rejects.toBeInstanceOf(EmailTakenError);
  });

  it('when a create is refused, then the store is unchanged', async () => {
    const store = new MemoryUserStore();
    const first = await store.create(aUser({ email: 'same@example.com' }));
    const refused = aUser({ email: 'SAME@example.com' });
    await store.create(refused).catch(() => undefined);
    expect(await store.get(refused.id)).toBeNull();
    expect(await store.list({ skip: 0, limit: 10 })).toEqual([first]);
  });

  it('when two creates with one email race, then exactly one wins', async () => {
    const store = new MemoryUserStore();
    const results = await Promise.allSettled([
      store.create(aUser({ email: 'race@example.com' })),
      store.create(aUser({ email: 'RACE@example.com' })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('when the caller mutates the object it passed in, then the stored user does not change', async () => {
    const store = new MemoryUserStore();
    const input = aUser({ name: 'Original' });
    await store.create(input);
    input.name = 'Mutated';
    expect((await store.get(input.id))?.name).toBe('Original');
  });

  it('when the caller mutates the returned user, then the stored user does not change', async () => {
    const store = new MemoryUserStore();
    const created = await store.create(aUser({ name: 'Original' }));
    created.name = 'Mutated';
    expect((await store.get(created.id))?.name).toBe('Original');
  });
});

describe('MemoryUserStore.get', () => {
  it('when the id is unknown, then it returns null', async () => {
    const { store } = await storeWith(1);
    expect(await store.get('nonexistent-id')).toBeNull();
  });

  it('when the caller mutates what get returned, then the stored user does not change', async () => {
    const { store, user } = await storeWith(1);
    const id = user(0).id;
    const fetched = await store.get(id);
    if (fetched) fetched.age = 99;
    expect((await store.get(id))?.age).toBeNull();
  });
});

describe('MemoryUserStore.list', () => {
  it('when asked for everything, then it returns users oldest first', async () => {
    const { store, users } = await storeWith(3);
    expect(await store.list({ skip: 0, limit: 100 })).toEqual(users);
  });

  it('when skip and limit are given, then it returns that window', async () => {
    const { store, users } = await storeWith(5);
    expect(await store.list({ skip: 2, limit: 2 })).toEqual(users.slice(2, 4));
  });

  it('when skip is past the end, then it returns an empty page', async () => {
    const { store } = await storeWith(2);
    expect(await store.list({ skip: 5, limit: 10 })).toEqual([]);
  });

  it('when limit exceeds what is left, then it returns the rest', async () => {
    const { store, users } = await storeWith(3);
    expect(await store.list({ skip: 1, limit: 1000 })).toEqual(users.slice(1));
  });

  it('when a user in the middle is deleted, then the order of the rest is kept', async () => {
    const { store, users, user } = await storeWith(3);
    await store.delete(user(1).id);
    expect(await store.list({ skip: 0, limit: 10 })).toEqual([users[0], users[2]]);
  });

  it('when the caller mutates a listed user, then the stored user does not change', async () => {
    const { store, users, user } = await storeWith(1);
    const [listed] = await store.list({ skip: 0, limit: 1 });
    if (listed) listed.name = 'Mutated';
    expect(await store.get(user(0).id)).toEqual(users[0]);
  });
});

describe('MemoryUserStore.update', () => {
  it('when the id is unknown, then it returns null', async () => {
    const { store } = await storeWith(1);
    expect(await store.update('nonexistent-id', { age: 3 })).toBeNull();
  });

  it('when a patch is applied, then get returns the patched user', async () => {
    const { store, users, user } = await storeWith(1);
    const id = user(0).id;
    const updated = await store.update(id, { name: 'New Name', age: 40 });
    expect(updated).toEqual({ ...users[0], name: 'New Name', age: 40 });
    expect(await store.get(id)).toEqual(updated);
  });

  it('when the email changes, then the old one is free and the new one taken', async () => {
    const { store, user } = await storeWith(1);
    const old = user(0).email;
    await store.update(user(0).id, { email: 'moved@example.com' });
    await expect(store.create(aUser({ email: old }))).resolves.toBeDefined();
    await expect(store.create(aUser({ email: 'MOVED@example.com' }))).rejects.toBeInstanceOf(EmailTakenError);
  });

  it('when only the case of the user’s own email changes, then it is allowed and stored', async () => {
    const { store } = await storeWith(0);
    const user = await store.create(aUser({ email: 'me@example.com' }));
    const updated = await store.update(user.id, { email: 'ME@Example.com' });
    expect(updated?.email).toBe('ME@Example.com');
  });

  it('when only the case of the user’s own email changed, then the address stays taken for others', async () => {
    const { store } = await storeWith(0);
    const user = await store.create(aUser({ email: 'me@example.com' }));
    await store.update(user.id, { email: 'ME@Example.com' });
    await expect(store.create(aUser({ email: 'me@example.com' }))).rejects.toBeInstanceOf(EmailTakenError);
  });

  it('when the new email belongs to another user, then it throws EmailTakenError and changes nothing', async () => {
    const { store, user } = await storeWith(2);
    const [first, second] = [user(0), user(1)];
    await expect(
      store.update(first.id, { name: 'Changed', email: second.email.toUpperCase() }),
    ).rejects.toBeInstanceOf(EmailTakenError);
    expect(await store.get(first.id)).toEqual(first);
  });

  it('when an email change is refused, then the user keeps their old email reserved', async () => {
    const { store, user } = await storeWith(2);
    const [first, second] = [user(0), user(1)];
    await store.update(first.id, { email: second.email }).catch(() => undefined);
    await expect(store.create(aUser({ email: first.email }))).rejects.toBeInstanceOf(EmailTakenError);
  });
});

describe('MemoryUserStore.delete', () => {
  it('when the user exists, then it returns true and the user is gone', async () => {
    const { store, user } = await storeWith(1);
    const id = user(0).id;
    expect(await store.delete(id)).toBe(true);
    expect(await store.get(id)).toBeNull();
  });

  it('when the user does not exist, then it returns false', async () => {
    const { store } = await storeWith(1);
    expect(await store.delete('nonexistent-id')).toBe(false);
  });

  it('when a user is deleted, then their email is free again', async () => {
    const { store, user } = await storeWith(1);
    await store.delete(user(0).id);
    await expect(store.create(aUser({ email: user(0).email.toUpperCase() }))).resolves.toBeDefined();
  });
});

describe('MemoryUserStore.check and close', () => {
  it('when checked, then it resolves because memory is always reachable', async () => {
    await expect(new MemoryUserStore().check()).resolves.toBeUndefined();
  });

  it('when closed, then it resolves', async () => {
    await expect(new MemoryUserStore().close()).resolves.toBeUndefined();
  });
});

describe('applyUserPatch', () => {
  const base = aUser({ name: 'Base', email: 'base@example.com', age: 20 });

  it('when the patch is empty, then the user is unchanged', () => {
    expect(applyUserPatch(base, {})).toEqual(base);
  });

  it('when fields are explicitly undefined, then they are left alone', () => {
    expect(applyUserPatch(base, { name: undefined, email: undefined, age: undefined })).toEqual(base);
  });

  it('when age is null, then the age is cleared', () => {
    expect(applyUserPatch(base, { age: null }).age).toBeNull();
  });

  it('when age is 0, then 0 is kept rather than treated as missing', () => {
    expect(applyUserPatch(base, { age: 0 }).age).toBe(0);
  });

  it('when a patch is applied, then id and created_at never change and the input is not mutated', () => {
    const copy = { ...base };
    const patched = applyUserPatch(base, { name: 'Other' });
    expect(patched).toMatchObject({ id: base.id, created_at: base.created_at, name: 'Other' });
    expect(base).toEqual(copy);
  });
});
