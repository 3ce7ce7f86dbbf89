import {
  type IdempotencyRequest,
  type IdempotentResult,
  type MemoryBudget,
  MemoryRecords,
  memoryPage,
  type PageRequest,
  type Positioned,
  type StoredIdempotencyKey,
  stringBytes,
} from '@microservices/service-kit';
import { emailKey, type User } from '../domain/user.js';
import { EmailTakenError, type UserStore } from './user-store.js';

/** What one user costs the memory budget: its strings and the object around them. */
const userBytes = (user: User) =>
  stringBytes(user.id) + stringBytes(user.name) + stringBytes(user.email) + stringBytes(user.created_at) + 64;

export interface MemoryUserStoreOptions {
  now?: () => number;
  /** What the store may hold; unbounded without one (tests). */
  budget?: MemoryBudget;
}

/**
 * In-process store: the zero-setup default. Every method completes synchronously inside one tick,
 * so check-and-write sequences cannot interleave. Lookups by email are O(1) so creates stay flat. With a
 * budget, a create or update that would pass it is refused (507) before anything changes.
 */
export class MemoryUserStore implements UserStore {
  readonly #users: MemoryRecords<User>;
  readonly #idsByEmail = new Map<string, string>();

  constructor({ now = Date.now, budget }: MemoryUserStoreOptions = {}) {
    this.#users = new MemoryRecords({ now, budget, bytesOf: userBytes });
  }

  async create(user: User, idempotency?: IdempotencyRequest): Promise<IdempotentResult<User>> {
    return this.#users.create(user, idempotency, (record, keyBytes) => this.#insert(record, keyBytes));
  }

  async findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<User> | null> {
    return this.#users.findIdempotencyKey(key);
  }

  async purgeExpiredKeys(): Promise<number> {
    return this.#users.purgeExpiredKeys();
  }

  /** Stores a copy, charging it and `extraBytes` (its idempotency key) first. */
  #insert(user: User, extraBytes: number): User {
    const key = emailKey(user.email);
    if (this.#idsByEmail.has(key)) throw new EmailTakenError(user.email);
    // Keep our own copy: a caller mutating the object it passed in must not change the stored user.
    const stored = { ...user };
    this.#users.add(stored, extraBytes);
    this.#idsByEmail.set(key, stored.id);
    return { ...stored };
  }

  async get(id: string): Promise<User | null> {
    const entry = this.#users.get(id);
    return entry ? { ...entry.value } : null;
  }

  async list(request: PageRequest & { maxBytes: number }): Promise<Array<Positioned<User>>> {
    return memoryPage(this.#users.values(), request, (user) => ({ ...user }));
  }

  async update(id: string, change: (current: User) => User): Promise<User | null> {
    const entry = this.#users.get(id);
    if (!entry) return null;
    const current = entry.value;
    // The caller gets a copy to change; only the writable fields are taken back, as PostgreSQL does.
    const { name, email, age } = change({ ...current });
    const next: User = { ...current, name, email, age };
    const oldKey = emailKey(current.email);
    const newKey = emailKey(next.email);
    if (newKey !== oldKey && this.#idsByEmail.has(newKey)) throw new EmailTakenError(next.email);
    // The user keeps its place (and position) in the list.
    this.#users.replace(entry, next);
    if (newKey !== oldKey) {
      this.#idsByEmail.delete(oldKey);
      this.#idsByEmail.set(newKey, id);
    }
    return { ...next };
  }

  async delete(id: string): Promise<boolean> {
    const removed = this.#users.remove(id);
    if (!removed) return false;
    this.#idsByEmail.delete(emailKey(removed.email));
    return true;
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
