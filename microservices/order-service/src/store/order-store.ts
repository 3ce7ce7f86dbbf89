import type {
  IdempotencyRequest,
  IdempotentResult,
  PageRequest,
  Positioned,
  StoredIdempotencyKey,
} from '@microservices/service-kit';
import type { Order } from '../domain/order.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OrderChanges } from '../domain/order-update.js';

export type { OrderChanges } from '../domain/order-update.js';

export type UpdateResult =
  | { outcome: 'updated'; order: Order }
  | { outcome: 'not_found' }
  /** The order's status was no longer `expectedStatus`: someone else changed it first. */
  | { outcome: 'status_changed'; current: Order };

export interface OrderListQuery extends PageRequest {
  maxBytes: number;
  userId?: string | undefined;
}

/** Persistence for orders. Implementations must agree on every behaviour in the contract tests. */
export interface OrderStore {
  /**
   * With `idempotency`, a repeat of the same key and body replays the first result instead of creating
   * again, and the same key with another body is `key_reused`.
   */
  create(order: Order, idempotency?: IdempotencyRequest): Promise<IdempotentResult<Order>>;
  /** The live idempotency key, if any: lets a repeat be answered before calling user-service again. */
  findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<Order> | null>;
  /** Deletes expired idempotency keys; returns how many. */
  purgeExpiredKeys(): Promise<number>;
  get(id: string): Promise<Order | null>;
  /**
   * About the bytes of the order's JSON (a close lower bound), without reading the order: null when there
   * is none. Asked only while the unsent-answer budget is spent, to refuse a large answer before reading it.
   */
  jsonBytes(id: string): Promise<number | null>;
  /**
   * Oldest first, stable across calls, optionally only one user's orders, each with its position (a
   * cursor resumes after it): at most `limit + 1` rows, and fewer once those already taken could fill
   * `maxBytes` of JSON, so a page of large orders is never read in full.
   */
  list(query: OrderListQuery): Promise<Array<Positioned<Order>>>;
  /**
   * Applies `changes` only if the order is still in `expectedStatus` (compare-and-set), so two
   * concurrent transitions cannot both succeed from the same state.
   */
  update(id: string, expectedStatus: OrderStatus, changes: OrderChanges): Promise<UpdateResult>;
  delete(id: string): Promise<boolean>;
  check(): Promise<void>;
  close(): Promise<void>;
}
