import {
  type IdempotencyRequest,
  type IdempotentResult,
  type MemoryBudget,
  MemoryRecords,
  memoryPage,
  type PagedEntry,
  type Positioned,
  type StoredIdempotencyKey,
  stringBytes,
} from '@microservices/service-kit';
import type { Order } from '../domain/order.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OrderChanges, OrderListQuery, OrderStore, UpdateResult } from './order-store.js';

const copy = (order: Order): Order => ({ ...order, items: order.items.map((item) => ({ ...item })) });

/** What one order costs the memory budget: its strings, numbers and the objects around them. */
function orderBytes(order: Order): number {
  let bytes = stringBytes(order.id) + stringBytes(order.user_id) + stringBytes(order.shipping_address) + 200;
  for (const item of order.items) bytes += stringBytes(item.product_id) + stringBytes(item.product_name) + 64;
  return bytes;
}

export interface MemoryOrderStoreOptions {
  now?: () => number;
  /** What the store may hold; unbounded without one (tests). */
  budget?: MemoryBudget;
}

/**
 * In-process store: the zero-setup default. Each method runs within one tick, so compare-and-set is
 * atomic. With a budget, a create or update that would pass it is refused (507) before anything changes.
 */
export class MemoryOrderStore implements OrderStore {
  readonly #orders: MemoryRecords<Order>;
  /** Per-user insertion-ordered ids, so a user's orders are listed without scanning everyone's. */
  readonly #idsByUser = new Map<string, Set<string>>();

  constructor({ now = Date.now, budget }: MemoryOrderStoreOptions = {}) {
    this.#orders = new MemoryRecords({ now, budget, bytesOf: orderBytes });
  }

  async create(order: Order, idempotency?: IdempotencyRequest): Promise<IdempotentResult<Order>> {
    return this.#orders.create(order, idempotency, (record, keyBytes) => this.#insert(record, keyBytes));
  }

  async findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<Order> | null> {
    return this.#orders.findIdempotencyKey(key);
  }

  async purgeExpiredKeys(): Promise<number> {
    return this.#orders.purgeExpiredKeys();
  }

  /** Stores a copy, charging it and `extraBytes` (its idempotency key) first. */
  #insert(order: Order, extraBytes: number): Order {
    this.#orders.add(copy(order), extraBytes);
    let ids = this.#idsByUser.get(order.user_id);
    if (!ids) {
      ids = new Set();
      this.#idsByUser.set(order.user_id, ids);
    }
    ids.add(order.id);
    return copy(order);
  }

  async get(id: string): Promise<Order | null> {
    const entry = this.#orders.get(id);
    return entry ? copy(entry.value) : null;
  }

  async jsonBytes(id: string): Promise<number | null> {
    return this.#orders.get(id)?.minJsonBytes ?? null;
  }

  async list(query: OrderListQuery): Promise<Array<Positioned<Order>>> {
    return memoryPage(this.#entries(query.userId), query, copy);
  }

  *#entries(userId: string | undefined): Iterable<PagedEntry<Order>> {
    if (userId === undefined) {
      yield* this.#orders.values();
      return;
    }
    for (const id of this.#idsByUser.get(userId) ?? []) {
      const entry = this.#orders.get(id);
      if (entry) yield entry;
    }
  }

  async update(id: string, expectedStatus: OrderStatus, changes: OrderChanges): Promise<UpdateResult> {
    const entry = this.#orders.get(id);
    if (!entry) return { outcome: 'not_found' };
    const current = entry.value;
    if (current.status !== expectedStatus) return { outcome: 'status_changed', current: copy(current) };
    const next: Order = {
      ...current,
      status: changes.status ?? current.status,
      shipping_address: changes.shipping_address ?? current.shipping_address,
      updated_at: changes.updated_at,
    };
    // The order keeps its place (and position) in the list.
    this.#orders.replace(entry, next);
    return { outcome: 'updated', order: copy(next) };
  }

  async delete(id: string): Promise<boolean> {
    const removed = this.#orders.remove(id);
    if (!removed) return false;
    const ids = this.#idsByUser.get(removed.user_id);
    ids?.delete(id);
    if (ids?.size === 0) this.#idsByUser.delete(removed.user_id);
    return true;
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
