import {
  type IdempotencyRequest,
  type IdempotentResult,
  type MemoryBudget,
  MemoryIdempotencyKeys,
  memoryPage,
  type PagedEntry,
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
/** At most its JSON: every character is at least one byte, plus the keys (`{"id":"",…}`). */
const minJsonBytes = (user: User) =>
  user.id.length + user.name.length + user.email.length + user.created_at.length + 50;
const keyBytes = (key: string, stored: StoredIdempotencyKey<User>) =>
  stringBytes(key) + stringBytes(stored.requestHash) + userBytes(stored.value) + 64;

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
  readonly #users = new Map<string, PagedEntry<User>>();
  readonly #idsByEmail = new Map<string, string>();
  readonly #keys: MemoryIdempotencyKeys<User>;
  readonly #budget: MemoryBudget | undefined;
  #nextPosition = 1;

  constructor({ now = Date.now, budget }: MemoryUserStoreOptions = {}) {
    this.#budget = budget;
    this.#keys = new MemoryIdempotencyKeys<User>(now, (key, stored) =>
      this.#budget?.release(keyBytes(key, stored)),
    );
  }

  async create(user: User, idempotency?: IdempotencyRequest): Promise<IdempotentResult<User>> {
    if (!idempotency) return { outcome: 'created', value: this.#insert(user, 0) };
    return this.#keys.run(idempotency, async () =>
      this.#insert(user, keyBytes(idempotency.key, { requestHash: idempotency.requestHash, value: user })),
    );
  }

  async findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<User> | null> {
    return this.#keys.lookup(key);
  }

  async purgeExpiredKeys(): Promise<number> {
    return this.#keys.purgeExpired();
  }

  /** Stores a copy, charging it and `extraBytes` (its idempotency key) first. */
  #insert(user: User, extraBytes: number): User {
    const key = emailKey(user.email);
    if (this.#idsByEmail.has(key)) throw new EmailTakenError(user.email);
    // Keep our own copy: a caller mutating the object it passed in must not change the stored user.
    const stored = { ...user };
    this.#budget?.charge(userBytes(stored) + extraBytes);
    this.#users.set(stored.id, {
      position: this.#nextPosition++,
      value: stored,
      minJsonBytes: minJsonBytes(stored),
    });
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
    this.#budget?.charge(userBytes(next) - userBytes(current));
    if (newKey !== oldKey) {
      this.#idsByEmail.delete(oldKey);
      this.#idsByEmail.set(newKey, id);
    }
    // Same Map key: the user keeps its place (and position) in the list.
    this.#users.set(id, { position: entry.position, value: next, minJsonBytes: minJsonBytes(next) });
    return { ...next };
  }

  async delete(id: string): Promise<boolean> {
    const entry = this.#users.get(id);
    if (!entry) return false;
    this.#users.delete(id);
    this.#idsByEmail.delete(emailKey(entry.value.email));
    this.#budget?.release(userBytes(entry.value));
    return true;
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
