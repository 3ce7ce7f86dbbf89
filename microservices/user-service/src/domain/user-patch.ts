import type { User } from './user.js';

/** Fields to change; absent or undefined fields stay as they are. */
export interface UserPatch {
  name?: string | undefined;
  email?: string | undefined;
  age?: number | null | undefined;
}

/**
 * The user after a patch (PUT): only name, email and age can change, and only those the client sent;
 * `age: null` clears the age. The email is kept as written: uniqueness compares `emailKey`s, so a change of
 * case only is the user's own address. id and created_at never change.
 */
export function patchUser(user: User, patch: UserPatch): User {
  return {
    ...user,
    name: patch.name ?? user.name,
    email: patch.email ?? user.email,
    age: patch.age === undefined ? user.age : patch.age,
  };
}
