import type {
  IdempotencyRequest,
  IdempotentResult,
  PageRequest,
  Positioned,
  StoredIdempotencyKey,
} from '@microservices/service-kit';
import type { User } from '../domain/user.js';

/** Raised by a store when another user already has the email (case-insensitively). */
export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';
}

/** Persistence for users. Implementations must agree on every behaviour in the contract tests. */
export interface UserStore {
  /**
   * Throws EmailTakenError if the email is in use. With `idempotency`, a repeat of the same key and body
   * replays the first result instead of creating again, and the same key with another body is `key_reused`.
   */
  create(user: User, idempotency?: IdempotencyRequest): Promise<IdempotentResult<User>>;
  /** The live idempotency key, if any. */
  findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<User> | null>;
  /** Deletes expired idempotency keys; returns how many. */
  purgeExpiredKeys(): Promise<number>;
  get(id: string): Promise<User | null>;
  /**
   * Oldest first, stable across calls, each with its position (a cursor resumes after it): at most
   * `limit + 1` rows, and fewer once those already taken could fill `maxBytes` of JSON.
   */
  list(request: PageRequest & { maxBytes: number }): Promise<Array<Positioned<User>>>;
  /**
   * Persists what `change` makes of the current user, with no other update in between (the domain decides
   * the new user, e.g. `patchUser`; the store only writes it). Only name, email and age are written: id and
   * created_at never change. Null when the user does not exist; throws EmailTakenError if the new email
   * belongs to someone else, and then changes nothing.
   */
  update(id: string, change: (current: User) => User): Promise<User | null>;
  /** False when the user did not exist. */
  delete(id: string): Promise<boolean>;
  /** Resolves when the store can serve; used by readiness. */
  check(): Promise<void>;
  close(): Promise<void>;
}
