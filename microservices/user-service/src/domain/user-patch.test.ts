import { describe, expect, it } from 'vitest';
import type { User } from './user.js';
import { patchUser } from './user-patch.js';

const aUser = (overrides: Partial<User> = {}): User => ({
  id: 'u-1',
  name: 'User 1',
  email: 'user1@example.com',
  age: null,
  created_at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('patchUser', () => {
  const base = aUser({ name: 'Base', email: 'base@example.com', age: 20 });

  it('when the patch is empty, then the user is unchanged', () => {
    expect(patchUser(base, {})).toEqual(base);
  });

  it('when fields are explicitly undefined, then they are left alone', () => {
    expect(patchUser(base, { name: undefined, email: undefined, age: undefined })).toEqual(base);
  });

  it('when age is null, then the age is cleared', () => {
    expect(patchUser(base, { age: null }).age).toBeNull();
  });

  it('when age is 0, then 0 is kept rather than treated as missing', () => {
    expect(patchUser(base, { age: 0 }).age).toBe(0);
  });

  it('when a patch is applied, then id and created_at never change and the input is not mutated', () => {
    const copy = { ...base };
    const patched = patchUser(base, { name: 'Other' });
    expect(patched).toMatchObject({ id: base.id, created_at: base.created_at, name: 'Other' });
    expect(base).toEqual(copy);
  });
});
