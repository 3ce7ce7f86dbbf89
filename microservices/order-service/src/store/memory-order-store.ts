import {
  type IdempotencyRequest,
  type IdempotentResult,
  MemoryIdempotencyKeys,
  type StoredIdempotencyKey,
} from '@microservices/service-kit';
import type { Order } from '../domain/order.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OrderChanges, OrderStore, UpdateResult } from './order-store.js';

const copy = (order: Order): Order => ({ ...order, items: order.items.map((item) => ({ ...item })) });

/** In-process store: the zero-setup default. Each method runs within one tick, so compare-and-set is atomic. */
export class MemoryOrderStore implements OrderStore {
  readonly #orders = new Map<string, Order>();
  /** Per-user insertion-ordered ids, so a user's orders are listed without scanning everyone's. */
  readonly #idsByUser = new Map<string, Set<string>>();
  readonly #keys: MemoryIdempotencyKeys<Order>;

  constructor(now: () => number = Date.now) {
    this.#keys = new MemoryIdempotencyKeys<Order>(now);
  }

  async create(order: Order, idempotency?: IdempotencyRequest): Promise<IdempotentResult<Order>> {
    if (!idempotency) return { outcome: 'created', value: this.#insert(order) };
    return this.#keys.run(idempotency, async () => this.#insert(order));
  }

  async findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<Order> | null> {
    return this.#keys.lookup(key);
  }

  async purgeExpiredKeys(): Promise<number> {
    return this.#keys.purgeExpired();
  }

  #insert(order: Order): Order {
    this.#orders.set(order.id, copy(order));
    let ids = this.#idsByUser.get(order.user_id);
    if (!ids) {
      ids = new Set();
      this.#idsByUser.set(order.user_id, ids);
    }
    ids.add(order.id);
    return copy(order);
  }

  async get(id: string): Promise<Order | null> {
    const order = this.#orders.get(id);
    return order ? copy(order) : null;
  }

  async list({ skip, limit, userId }: { skip: number; limit: number; userId?: string | undefined }) {
    const ids =
      userId === undefined ? this.#orders.keys() : (this.#idsByUser.get(userId) ?? new Set<string>());
    const page: Order[] = [];
    let index = 0;
    for (const id of ids) {
      if (index++ < skip) continue;
      if (page.length >= limit) break;
      const order = this.#orders.get(id);
      if (order) page.push(copy(order));
    }
    return page;
  }

  async update(id: string, expectedStatus: OrderStatus, changes: OrderChanges): Promise<UpdateResult> {
    const current = this.#orders.get(id);
    if (!current) return { outcome: 'not_found' };
    if (current.status !== expectedStatus) return { outcome: 'status_changed', current: copy(current) };
    const next: Order = {
      ...current,
      status: changes.status ?? current.status,
      shipping_address: changes.shipping_address ?? current.shipping_address,
      updated_at: changes.updated_at,
    };
    this.#orders.set(id, next);
    return { outcome: 'updated', order: copy(next) };
  }

  async delete(id: string): Promise<boolean> {
    const order = this.#orders.get(id);
    if (!order) return false;
    this.#orders.delete(id);
    const ids = this.#idsByUser.get(order.user_id);
    ids?.delete(id);
    if (ids?.size === 0) this.#idsByUser.delete(order.user_id);
    return true;
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
