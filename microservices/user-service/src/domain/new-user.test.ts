import { describe, expect, it } from 'vitest';
import { newUser } from './new-user.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

describe('newUser', () => {
  it('when a request is valid, then the user has the given id, fields and creation time', () => {
    expect(newUser({ name: 'Ann', email: 'Ann@Example.com', age: 30 }, { id: 'u-1', now: NOW })).toEqual({
      id: 'u-1',
      name: 'Ann',
      email: 'Ann@Example.com',
      age: 30,
      created_at: NOW.toISOString(),
    });
  });

  it('when the request gives no age, then the age is null', () => {
    expect(newUser({ name: 'Ann', email: 'ann@example.com' }, { id: 'u-1', now: NOW }).age).toBeNull();
  });

  it('when the age is 0, then 0 is kept rather than treated as missing', () => {
    expect(newUser({ name: 'Ann', email: 'ann@example.com', age: 0 }, { id: 'u-1', now: NOW }).age).toBe(0);
  });
});
