-- Up Migration
CREATE TABLE users (
  id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  -- Insertion order: pagination is oldest first and must stay stable however ids sort.
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  age         integer CHECK (age BETWEEN 0 AND 150),
  created_at  timestamptz NOT NULL
);

-- Emails are unique regardless of case: the database enforces it, so concurrent creates cannot race past it.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE idempotency_keys (
  key           text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  response      jsonb NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE users;
