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

const COLUMNS = 'id, name, email, age, created_at';
const UNIQUE_VIOLATION = '23505';

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

  async list({ skip, limit, after }: PageRequest & { maxBytes: number }): Promise<Array<Positioned<User>>> {
    // A user is at most ~1 KB, so limit + 1 rows are bounded without a byte cut in SQL.
    const { rows } = await this.db.query<UserRow & { seq: string }>(
      'users.list',
      `SELECT seq, ${COLUMNS} FROM users WHERE seq > $3 ORDER BY seq LIMIT $1 OFFSET $2`,
      [limit + 1, skip, after ?? 0],
    );
    return rows.map((row) => ({ position: Number(row.seq), value: toUser(row) }));
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
