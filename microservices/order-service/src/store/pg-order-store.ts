import {
  type Database,
  type IdempotencyRequest,
  type IdempotentResult,
  insertIdempotently,
  lookupIdempotencyKey,
  type Positioned,
  purgeExpiredIdempotencyKeys,
  type Queryable,
  type StoredIdempotencyKey,
} from '@microservices/service-kit';
import { fromCents, toCents } from '../domain/money.js';
import type { Order } from '../domain/order.js';
import type { OrderStatus } from '../domain/order-status.js';
import type { OrderChanges, OrderListQuery, OrderStore, UpdateResult } from './order-store.js';

interface OrderRow {
  id: string;
  user_id: string;
  shipping_address: string;
  total_cents: string;
  status: OrderStatus;
  created_at: Date;
  updated_at: Date;
  items: Array<{ product_id: string; product_name: string; quantity: number; price_cents: number }>;
}

type ListedOrderRow = OrderRow & { seq: string; min_json_bytes: number };

// Items come back as one JSON array per order, in the order they were given, so a page is one query.
const ORDER_COLUMNS = `
  o.id, o.user_id, o.shipping_address, o.total_cents, o.status, o.created_at, o.updated_at,
  (SELECT json_agg(json_build_object('product_id', i.product_id, 'product_name', i.product_name,
                                     'quantity', i.quantity, 'price_cents', i.price_cents)
                   ORDER BY i.position)
     FROM order_items i WHERE i.order_id = o.id) AS items`;
const SELECT_ORDER = `SELECT ${ORDER_COLUMNS} FROM orders o`;

/**
 * A page in one statement, bounded in rows and bytes: the candidate rows (after the cursor position $4,
 * past $2, at most $1) are measured by the lower bound of their JSON kept with each order
 * (min_json_bytes), and only those starting before $3 bytes are read in full, so a page of large orders
 * never crosses the wire whole. The reply then cuts at the exact byte budget.
 */
const listOrders = (userFilter: string) => `
  WITH measured AS (
    SELECT p.seq, p.id, sum(p.min_json_bytes) OVER (ORDER BY p.seq) - p.min_json_bytes AS bytes_before
      FROM (SELECT seq, id, min_json_bytes FROM orders p
             WHERE p.seq > $4 ${userFilter}
             ORDER BY p.seq LIMIT $1 OFFSET $2) p)
  SELECT o.seq, o.min_json_bytes, ${ORDER_COLUMNS}
    FROM measured m JOIN orders o ON o.id = m.id
   WHERE m.bytes_before < $3
   ORDER BY o.seq`;
const LIST_ORDERS = listOrders('');
const LIST_USER_ORDERS = listOrders('AND p.user_id = $5');

const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  user_id: row.user_id,
  items: row.items.map((item) => ({
    product_id: item.product_id,
    product_name: item.product_name,
    quantity: item.quantity,
    price: fromCents(Number(item.price_cents)),
  })),
  shipping_address: row.shipping_address,
  total_amount: fromCents(Number(row.total_cents)),
  status: row.status,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

function cents(price: number): number {
  const value = toCents(price);
  if (value === null) throw new RangeError(`price ${price} has more than two decimals`);
  return value;
}

/**
 * The order and all its items in one statement (a data-modifying CTE), with the lower bound of its JSON
 * size that listings measure pages by (migrations/0002_order_min_json_bytes.sql has the same formula).
 */
const INSERT_ORDER = `
  WITH inserted AS (
    INSERT INTO orders (id, user_id, shipping_address, total_cents, status, created_at, updated_at, min_json_bytes)
    VALUES ($1, $2, $3, $4, $5, $6, $7,
            octet_length(to_json($1::text)::text) + octet_length(to_json($2::text)::text)
              + octet_length(to_json($3::text)::text) + octet_length($5) + 150
              + (SELECT COALESCE(sum(octet_length(to_json(p)::text) + octet_length(to_json(n)::text) + 50), 0)
                   FROM unnest($8::text[], $9::text[]) AS item (p, n)))
    RETURNING id)
  INSERT INTO order_items (order_id, position, product_id, product_name, quantity, price_cents)
  SELECT inserted.id, item.position - 1, item.product_id, item.product_name, item.quantity, item.price_cents
    FROM inserted,
         unnest($8::text[], $9::text[], $10::int[], $11::bigint[])
           WITH ORDINALITY AS item (product_id, product_name, quantity, price_cents, position)`;

const insertValues = (order: Order): unknown[] => [
  order.id,
  order.user_id,
  order.shipping_address,
  cents(order.total_amount),
  order.status,
  order.created_at,
  order.updated_at,
  order.items.map((i) => i.product_id),
  order.items.map((i) => i.product_name),
  order.items.map((i) => i.quantity),
  order.items.map((i) => cents(i.price)),
];

/** Orders in PostgreSQL; items in `order_items`, money in integer cents, constraints in the schema. */
export class PgOrderStore implements OrderStore {
  constructor(private readonly db: Database) {}

  async create(order: Order, idempotency?: IdempotencyRequest): Promise<IdempotentResult<Order>> {
    if (!idempotency) {
      // One statement is atomic by itself: no BEGIN/COMMIT round trips, no connection held in between.
      await this.db.query('orders.create', INSERT_ORDER, insertValues(order));
      return { outcome: 'created', value: order };
    }
    return insertIdempotently(this.db, 'orders.create', idempotency, (tx) => this.#insert(tx, order));
  }

  findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<Order> | null> {
    return lookupIdempotencyKey<Order>(this.db, 'orders.create', key);
  }

  purgeExpiredKeys(): Promise<number> {
    return purgeExpiredIdempotencyKeys(this.db, 'orders');
  }

  async get(id: string): Promise<Order | null> {
    const { rows } = await this.db.query<OrderRow>('orders.get', `${SELECT_ORDER} WHERE o.id = $1`, [id]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  async list({ skip, limit, after, maxBytes, userId }: OrderListQuery): Promise<Array<Positioned<Order>>> {
    const params = [limit + 1, skip, maxBytes, after ?? 0];
    const { rows } =
      userId === undefined
        ? await this.db.query<ListedOrderRow>('orders.list', LIST_ORDERS, params)
        : await this.db.query<ListedOrderRow>('orders.list_by_user', LIST_USER_ORDERS, [...params, userId]);
    return rows.map((row) => ({
      position: Number(row.seq),
      value: toOrder(row),
      minJsonBytes: row.min_json_bytes,
    }));
  }

  async jsonBytes(id: string): Promise<number | null> {
    const { rows } = await this.db.query<{ min_json_bytes: number }>(
      'orders.json_bytes',
      'SELECT min_json_bytes FROM orders WHERE id = $1',
      [id],
    );
    return rows[0]?.min_json_bytes ?? null;
  }

  async update(id: string, expectedStatus: OrderStatus, changes: OrderChanges): Promise<UpdateResult> {
    // Compare-and-set on the status: a concurrent move from the same state makes this update match no row.
    const { rowCount } = await this.db.query(
      'orders.update',
      `UPDATE orders
          SET status = COALESCE($3, status), shipping_address = COALESCE($4, shipping_address), updated_at = $5,
              -- The size listings measure pages by follows the texts it counts (old values on the right).
              min_json_bytes = min_json_bytes - octet_length(status) + octet_length(COALESCE($3, status))
                - octet_length(to_json(shipping_address)::text)
                + octet_length(to_json(COALESCE($4, shipping_address))::text)
        WHERE id = $1 AND status = $2`,
      [id, expectedStatus, changes.status ?? null, changes.shipping_address ?? null, changes.updated_at],
    );
    const current = await this.get(id);
    if (!current) return { outcome: 'not_found' };
    return rowCount ? { outcome: 'updated', order: current } : { outcome: 'status_changed', current };
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('orders.delete', 'DELETE FROM orders WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  check(): Promise<void> {
    return this.db.check();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The order and all its items, inside the caller's transaction. */
  async #insert(tx: Queryable, order: Order): Promise<Order> {
    await tx.query(INSERT_ORDER, insertValues(order));
    return order;
  }
}
