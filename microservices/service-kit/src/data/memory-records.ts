import type { IdempotencyRequest, IdempotentResult, StoredIdempotencyKey } from './idempotency.js';
import { type MemoryBudget, stringBytes } from './memory-budget.js';
import { MemoryIdempotencyKeys } from './memory-idempotency.js';

/** What a memory store keeps per record for paging: its position and a lower bound of its JSON size. */
export interface PagedEntry<T> {
  position: number;
  value: T;
  /** At most the bytes `JSON.stringify(value)` takes; the memory stores keep the exact size (jsonBytes). */
  minJsonBytes: number;
}

/** The exact size of a value's JSON, for PagedEntry.minJsonBytes (escapes included). */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

export interface MemoryRecordsOptions<T> {
  now: () => number;
  /** What the store may hold; unbounded without one (tests). */
  budget: MemoryBudget | undefined;
  /** What one record costs the budget. */
  bytesOf: (record: T) => number;
}

/**
 * What every in-process store keeps the same way: records by id in list order (each with its position
 * and JSON size, for memoryPage), their idempotency keys, and the memory budget both are charged to.
 * The store decides what a record is and which indexes it needs; this charges before anything changes,
 * so a write the budget refuses (507) leaves nothing behind.
 */
export class MemoryRecords<T extends { id: string }> {
  readonly #entries = new Map<string, PagedEntry<T>>();
  readonly #keys: MemoryIdempotencyKeys<T>;
  readonly #budget: MemoryBudget | undefined;
  readonly #bytesOf: (record: T) => number;
  #nextPosition = 1;

  constructor({ now, budget, bytesOf }: MemoryRecordsOptions<T>) {
    this.#budget = budget;
    this.#bytesOf = bytesOf;
    this.#keys = new MemoryIdempotencyKeys<T>(now, (key, stored) =>
      this.#budget?.release(this.#keyBytes(key, stored)),
    );
  }

  /**
   * Creates `record` through `insert` (which stores it with add), once per idempotency key when one is
   * given; `insert` is told the bytes the key will hold, to charge them with the record.
   */
  async create(
    record: T,
    idempotency: IdempotencyRequest | undefined,
    insert: (record: T, keyBytes: number) => T,
  ): Promise<IdempotentResult<T>> {
    if (!idempotency) return { outcome: 'created', value: insert(record, 0) };
    return this.#keys.run(idempotency, async () =>
      insert(
        record,
        this.#keyBytes(idempotency.key, { requestHash: idempotency.requestHash, value: record }),
      ),
    );
  }

  findIdempotencyKey(key: string): StoredIdempotencyKey<T> | null {
    return this.#keys.lookup(key);
  }

  purgeExpiredKeys(): number {
    return this.#keys.purgeExpired();
  }

  get(id: string): PagedEntry<T> | undefined {
    return this.#entries.get(id);
  }

  /** Every entry in list order. */
  values(): IterableIterator<PagedEntry<T>> {
    return this.#entries.values();
  }

  /** Charges `stored` and `extraBytes` (its idempotency key), then appends it to the list. */
  add(stored: T, extraBytes: number): void {
    this.#budget?.charge(this.#bytesOf(stored) + extraBytes);
    this.#entries.set(stored.id, {
      position: this.#nextPosition++,
      value: stored,
      minJsonBytes: jsonBytes(stored),
    });
  }

  /** Charges what `next` costs more than `entry`'s record, then puts it in that record's place (and position). */
  replace(entry: PagedEntry<T>, next: T): void {
    this.#budget?.charge(this.#bytesOf(next) - this.#bytesOf(entry.value));
    this.#entries.set(next.id, { position: entry.position, value: next, minJsonBytes: jsonBytes(next) });
  }

  /** Removes the record `id` and gives its bytes back; the record removed, if there was one. */
  remove(id: string): T | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    this.#budget?.release(this.#bytesOf(entry.value));
    return entry.value;
  }

  #keyBytes(key: string, stored: StoredIdempotencyKey<T>): number {
    return stringBytes(key) + stringBytes(stored.requestHash) + this.#bytesOf(stored.value) + 64;
  }
}
