-- Up Migration
CREATE TABLE orders (
  id                text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  -- Insertion order: pagination is oldest first and must stay stable however ids sort.
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  user_id           text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 128),
  shipping_address  text NOT NULL CHECK (length(shipping_address) BETWEEN 1 AND 1000),
  -- Money as integer cents: exact sums, no floating point anywhere.
  total_cents       bigint NOT NULL CHECK (total_cents >= 0),
  status            text NOT NULL CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')),
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL CHECK (updated_at >= created_at)
);
CREATE INDEX orders_user_id_seq_idx ON orders (user_id, seq);
CREATE INDEX orders_created_at_idx ON orders (created_at);

CREATE TABLE order_items (
  order_id      text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position      integer NOT NULL CHECK (position BETWEEN 0 AND 99),
  product_id    text NOT NULL CHECK (length(product_id) BETWEEN 1 AND 128),
  product_name  text NOT NULL CHECK (length(product_name) BETWEEN 1 AND 500),
  quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
  price_cents   bigint NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000),
  PRIMARY KEY (order_id, position)
);

CREATE TABLE idempotency_keys (
  key           text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  response      jsonb NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE order_items;
DROP TABLE orders;
