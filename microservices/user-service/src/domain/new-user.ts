import type { CreateUser, User } from './user.js';

/** The user a valid create request makes: a fresh id, no age unless given, created now. */
export function newUser(request: CreateUser, { id, now }: { id: string; now: Date }): User {
  return {
    id,
    name: request.name,
    email: request.email,
    age: request.age ?? null,
    created_at: now.toISOString(),
  };
}
