import {
  type Database,
  type IdempotencyRequest,
  type IdempotentResult,
  insertIdempotently,
  lookupIdempotencyKey,
  type PageRequest,
  type Positioned,
  purgeExpiredIdempotencyKeys,
  type Queryable,
  type StoredIdempotencyKey,
} from '@microservices/service-kit';
import type { User } from '../domain/user.js';
import { EmailTakenError, type UserStore } from './user-store.js';

interface UserRow {
  id: string;
  name: string;
  email: string;
  age: number | null;
  created_at: Date;
}

type ListedUserRow = UserRow & { seq: string; min_json_bytes: number };

const COLUMNS = 'id, name, email, age, created_at';
const UNIQUE_VIOLATION = '23505';

/**
 * The largest JSON a stored user can have: the longest id, name and email the schema accepts (128, 200
 * and 254 characters, migrations/0001) all of characters JSON escapes six-fold, and the largest age.
 */
const LARGEST_USER_JSON_BYTES = Buffer.byteLength(
  JSON.stringify({
    id: '\u0001'.repeat(128),
    name: '\u0001'.repeat(200),
    email: '\u0001'.repeat(254),
    age: 150,
    created_at: new Date(0).toISOString(),
  }),
);

const PAGE_COLUMNS = 'seq, id, name, email, age, created_at, min_json_bytes';

/** A page whose rows cannot pass the byte budget, however large each user is: cut by rows only. */
const LIST_USERS = `SELECT ${PAGE_COLUMNS} FROM users WHERE seq > $3 ORDER BY seq LIMIT $1 OFFSET $2`;

/**
 * A page bounded in rows and bytes, as orders are: each candidate user (after position $3, past $2, at
 * most $1) with the lower bound of its JSON stored beside it (a trigger keeps it, migrations/0002), and
 * only those starting before $4 bytes returned. A user whose name is all control characters is ~3 KB of
 * JSON, so 1,001 of them would be 3 MB. The running sum costs PostgreSQL a third more than the plain
 * read, so it is only asked for when the rows could pass the budget.
 */
const LIST_USERS_BY_BYTES = `
  SELECT ${PAGE_COLUMNS}
    FROM (SELECT c.*, sum(c.min_json_bytes) OVER (ORDER BY c.seq) - c.min_json_bytes AS bytes_before
            FROM (SELECT ${PAGE_COLUMNS} FROM users WHERE seq > $3 ORDER BY seq LIMIT $1 OFFSET $2) c) w
   WHERE bytes_before < $4
   ORDER BY seq`;

const toUser = (row: UserRow): User => ({
  id: row.id,
  name: row.name,
  email: row.email,
  age: row.age,
  created_at: row.created_at.toISOString(),
});

const isEmailClash = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === UNIQUE_VIOLATION &&
  (err as { constraint?: string }).constraint === 'users_email_lower_key';

/** Users in PostgreSQL. Uniqueness and ranges are enforced by the schema (migrations/), not by reads first. */
export class PgUserStore implements UserStore {
  constructor(private readonly db: Database) {}

  async create(user: User, idempotency?: IdempotencyRequest): Promise<IdempotentResult<User>> {
    try {
      if (!idempotency) {
        return { outcome: 'created', value: await this.#insert(this.db.pool, user, 'users.create') };
      }
      return await insertIdempotently(this.db, 'users.create', idempotency, (client) =>
        this.#insert(client, user),
      );
    } catch (err) {
      if (isEmailClash(err)) throw new EmailTakenError(user.email);
      throw err;
    }
  }

  findIdempotencyKey(key: string): Promise<StoredIdempotencyKey<User> | null> {
    return lookupIdempotencyKey<User>(this.db, 'users.create', key);
  }

  purgeExpiredKeys(): Promise<number> {
    return purgeExpiredIdempotencyKeys(this.db, 'users');
  }

  async get(id: string): Promise<User | null> {
    const { rows } = await this.db.query<UserRow>('users.get', `SELECT ${COLUMNS} FROM users WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async list({
    skip,
    limit,
    after,
    maxBytes,
  }: PageRequest & { maxBytes: number }): Promise<Array<Positioned<User>>> {
    const params = [limit + 1, skip, after ?? 0];
    const { rows } =
      (limit + 1) * LARGEST_USER_JSON_BYTES <= maxBytes
        ? await this.db.query<ListedUserRow>('users.list', LIST_USERS, params)
        : await this.db.query<ListedUserRow>('users.list_by_bytes', LIST_USERS_BY_BYTES, [
            ...params,
            maxBytes,
          ]);
    return rows.map((row) => ({
      position: Number(row.seq),
      value: toUser(row),
      minJsonBytes: row.min_json_bytes,
    }));
  }

  async update(id: string, change: (current: User) => User): Promise<User | null> {
    let email = '';
    try {
      // Read-modify-write in one transaction with the row locked, so concurrent PUTs apply one after the other.
      return await this.db.transaction('users.update', async (client) => {
        const { rows } = await client.query<UserRow>(
          `SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`,
          [id],
        );
        if (!rows[0]) return null;
        const next = change(toUser(rows[0]));
        email = next.email;
        const updated = await client.query<UserRow>(
          `UPDATE users SET name = $2, email = $3, age = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, next.name, next.email, next.age],
        );
        return updated.rows[0] ? toUser(updated.rows[0]) : null;
      });
    } catch (err) {
      if (isEmailClash(err)) throw new EmailTakenError(email);
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('users.delete', 'DELETE FROM users WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  check(): Promise<void> {
    return this.db.check();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async #insert(client: Queryable, user: User, operation?: string): Promise<User> {
    const text = `INSERT INTO users (id, name, email, age, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`;
    const values = [user.id, user.name, user.email, user.age, user.created_at];
    const { rows } = operation
      ? await this.db.query<UserRow>(operation, text, values)
      : await client.query<UserRow>(text, values);
    const row = rows[0];
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return toUser(row);
  }
}
