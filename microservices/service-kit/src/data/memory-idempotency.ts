import type { IdempotencyRequest, IdempotentResult, StoredIdempotencyKey } from './idempotency.js';

interface Entry<T> extends StoredIdempotencyKey<T> {
  expiresAt: number;
}

/**
 * Idempotency keys for an in-process store. Concurrent requests with one key share the first one's
 * work (they await the same promise), so exactly one resource is created however many arrive at once.
 */
export class MemoryIdempotencyKeys<T> {
  readonly #done = new Map<string, Entry<T>>();
  readonly #inFlight = new Map<string, { requestHash: string; result: Promise<IdempotentResult<T>> }>();

  /** `onForget` hears of every key dropped (expired), so a bounded store can give its bytes back. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly onForget: (key: string, entry: StoredIdempotencyKey<T>) => void = () => undefined,
  ) {}

  lookup(key: string): StoredIdempotencyKey<T> | null {
    const entry = this.#done.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      this.#forget(key, entry);
      return null;
    }
    return { requestHash: entry.requestHash, value: entry.value };
  }

  /** Runs `create` once per live key; repeats get the first result, other bodies get `key_reused`. */
  async run(request: IdempotencyRequest, create: () => Promise<T>): Promise<IdempotentResult<T>> {
    const stored = this.lookup(request.key);
    if (stored) return this.#answer(stored.requestHash, stored.value, request);
    const pending = this.#inFlight.get(request.key);
    if (pending) {
      const first = await pending.result;
      if (first.outcome === 'key_reused') return first;
      return this.#answer(pending.requestHash, first.value, request);
    }
    const result = (async (): Promise<IdempotentResult<T>> => {
      const value = await create();
      this.#done.set(request.key, {
        requestHash: request.requestHash,
        value,
        expiresAt: this.now() + request.ttlMs,
      });
      return { outcome: 'created', value };
    })();
    this.#inFlight.set(request.key, { requestHash: request.requestHash, result });
    try {
      return await result;
    } finally {
      this.#inFlight.delete(request.key);
    }
  }

  /** Forgets expired keys; called periodically so memory does not grow with old keys. */
  purgeExpired(): number {
    const now = this.now();
    let purged = 0;
    for (const [key, entry] of this.#done) {
      if (entry.expiresAt <= now) {
        this.#forget(key, entry);
        purged++;
      }
    }
    return purged;
  }

  #forget(key: string, entry: Entry<T>): void {
    this.#done.delete(key);
    this.onForget(key, entry);
  }

  #answer(storedHash: string, value: T, request: IdempotencyRequest): IdempotentResult<T> {
    return storedHash === request.requestHash ? { outcome: 'replayed', value } : { outcome: 'key_reused' };
  }
}
