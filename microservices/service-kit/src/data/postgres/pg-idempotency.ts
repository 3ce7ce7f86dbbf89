import type pg from 'pg';
import type { IdempotencyRequest, IdempotentResult, StoredIdempotencyKey } from '../idempotency.js';
import type { Database, Queryable } from './database.js';

/**
 * The `idempotency_keys` table each service's migrations create:
 *   key text PRIMARY KEY, request_hash text, response jsonb, expires_at timestamptz.
 * The primary key is what makes concurrent duplicates safe: a second transaction inserting the same key
 * waits for the first to commit and then sees its row, so no check-then-insert race exists.
 */
export async function lookupIdempotencyKey<T>(
  db: Database,
  operation: string,
  key: string,
): Promise<StoredIdempotencyKey<T> | null> {
  const { rows } = await db.query<{ request_hash: string; response: T }>(
    `${operation}.idempotency_lookup`,
    'SELECT request_hash, response FROM idempotency_keys WHERE key = $1 AND expires_at > now()',
    [key],
  );
  const row = rows[0];
  return row ? { requestHash: row.request_hash, value: row.response } : null;
}

/**
 * Claims the key and runs `insert` in the same transaction, storing its result as the key's response.
 * If the key is already taken (and not expired), nothing is inserted and the stored response is replayed,
 * or `key_reused` when the body differs.
 */
export async function insertIdempotently<T>(
  db: Database,
  operation: string,
  request: IdempotencyRequest,
  insert: (client: Queryable) => Promise<T>,
): Promise<IdempotentResult<T>> {
  const claimed = await db.transaction(operation, async (client: pg.PoolClient) => {
    // An expired key may be reused: the upsert takes it over; a live one makes the insert a no-op.
    const claim = await client.query(
      `INSERT INTO idempotency_keys (key, request_hash, response, expires_at)
       VALUES ($1, $2, 'null'::jsonb, now() + make_interval(secs => $3::double precision / 1000))
       ON CONFLICT (key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, response = 'null'::jsonb, expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
       RETURNING key`,
      [request.key, request.requestHash, request.ttlMs],
    );
    if (claim.rowCount === 0) return null;
    const value = await insert(client);
    await client.query('UPDATE idempotency_keys SET response = $2 WHERE key = $1', [
      request.key,
      JSON.stringify(value),
    ]);
    return value;
  });
  if (claimed !== null) return { outcome: 'created', value: claimed };
  const stored = await lookupIdempotencyKey<T>(db, operation, request.key);
  // Gone between the two statements only if it expired that very moment: treat as a reuse, never create twice.
  if (!stored || stored.requestHash !== request.requestHash) return { outcome: 'key_reused' };
  return { outcome: 'replayed', value: stored.value };
}

/** Deletes expired keys; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: Database, operation: string): Promise<number> {
  const { rowCount } = await db.query(
    `${operation}.idempotency_purge`,
    'DELETE FROM idempotency_keys WHERE expires_at <= now()',
  );
  return rowCount ?? 0;
}
