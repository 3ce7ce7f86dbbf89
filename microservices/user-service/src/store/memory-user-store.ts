import {
  type IdempotencyRequest,
  type IdempotentResult,
  MemoryIdempotencyKeys,
  type StoredIdempotencyKey,
} from '@microservices/service-kit';
import { emailKey, type User } from '../domain/user.js';
import { applyUserPatch, EmailTakenError, type UserPatch, type UserStore } from './user-store.js';

/**
 * In-process store: the zero-setup default. Every method completes synchronously inside one tick,
 * so check-and-write sequences cannot interleave. Lookups by email are O(1) so creates stay flat.
 */
export class MemoryUserStore implements UserStore {
  readonly #users = new Map<string, User>();
  readonly #idsByEmail = new Map<string, string>();
  readonly #keys: MemoryIdempotencyKeys<User>;

  constructor(now: () => number = Date.now) {
    this.#keys = new MemoryIdempotencyKeys<User>(now);
  }

  async create(user: User, idempotency?: IdempotencyRequest): Promise<IdempotentResult<User>> {
    if (!idempotency) return { outcome: 'created', value: this.#insert(user) };
    return this.#keys.run(idempotency, async () => this.#insert(user));
  }

  async findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<User> | null> {
    return this.#keys.lookup(key);
  }

  async purgeExpiredKeys(): Promise<number> {
    return this.#keys.purgeExpired();
  }

  #insert(user: User): User {
    const key = emailKey(user.email);
    if (this.#idsByEmail.has(key)) throw new EmailTakenError(user.email);
    // Keep our own copy: a caller mutating the object it passed in must not change the stored user.
    const stored = { ...user };
    this.#users.set(stored.id, stored);
    this.#idsByEmail.set(key, stored.id);
    return { ...stored };
  }

  async get(id: string): Promise<User | null> {
    const user = this.#users.get(id);
    return user ? { ...user } : null;
  }

  async list({ skip, limit }: { skip: number; limit: number }): Promise<User[]> {
    const page: User[] = [];
    let index = 0;
    for (const user of this.#users.values()) {
      if (index++ < skip) continue;
      if (page.length >= limit) break;
      page.push({ ...user });
    }
    return page;
  }

  async update(id: string, patch: UserPatch): Promise<User | null> {
    const current = this.#users.get(id);
    if (!current) return null;
    const next = applyUserPatch(current, patch);
    const oldKey = emailKey(current.email);
    const newKey = emailKey(next.email);
    if (newKey !== oldKey) {
      if (this.#idsByEmail.has(newKey)) throw new EmailTakenError(next.email);
      this.#idsByEmail.delete(oldKey);
      this.#idsByEmail.set(newKey, id);
    }
    this.#users.set(id, next);
    return { ...next };
  }

  async delete(id: string): Promise<boolean> {
    const user = this.#users.get(id);
    if (!user) return false;
    this.#users.delete(id);
    this.#idsByEmail.delete(emailKey(user.email));
    return true;
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
