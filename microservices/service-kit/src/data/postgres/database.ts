import pg from 'pg';
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '../../base/metrics-registry.js';
import { AppError } from '../../problems/app-error.js';
import { pgConnection } from './connection.js';

export interface DatabaseOptions {
  url: string;
  /** DB_SSL_ROOT_CERT: the database CA for `verify-full` TLS (see pgConnection). */
  sslRootCert?: string | undefined;
  /** Shown in pg_stat_activity, so a DBA can tell the services apart. */
  applicationName: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  logger: Logger;
  registry: Registry;
}

/** PostgreSQL could not be reached or did not answer in time; a 503, never a 500. */
export class DatabaseUnavailableError extends AppError {
  constructor() {
    super({
      type: 'database-unavailable',
      detail: 'The database is unavailable. Retry later.',
      headers: { 'Retry-After': '2' },
    });
  }
}

/**
 * Every pooled connection was busy for DB_CONNECT_TIMEOUT_MS: this pod has more database work than its
 * pool, while PostgreSQL itself is fine. A 503 `overloaded` that the caller may retry at once, not
 * `database-unavailable`: a burst of list requests must neither be reported nor logged as an outage.
 */
export class DatabaseBusyError extends AppError {
  constructor() {
    super({
      type: 'overloaded',
      detail: 'Every database connection of this instance is busy; retry shortly.',
      headers: { 'Retry-After': '1' },
    });
  }
}

/** What pg-pool says when no connection became free (or could be opened) within connectionTimeoutMillis. */
const POOL_TIMEOUT = /timeout exceeded when trying to connect/i;
/** The pool-busy warning is logged at most this often. */
const BUSY_WARN_INTERVAL_MS = 10_000;

// SQLSTATE classes and codes that mean "the server is not there for us right now", as opposed to a bad query.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-5]|57014|40001|40P01)/;
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/** True when an error from `pg` means the database is unreachable, restarting, overloaded or timed out. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  // pg reports pool/connection timeouts and dropped sockets only by message.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    err.message,
  );
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * What may be logged of a driver error: pg attaches the client (with its connection parameters, password
 * included) to some errors, so the error object itself must never reach a log line.
 */
export function describeDbError(err: unknown): { message: string; code?: string } {
  if (!(err instanceof Error)) return { message: 'unknown database error' };
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
}

/**
 * A pooled PostgreSQL connection for one service: every query is timed per operation, outage errors
 * become DatabaseUnavailableError (503), and an outage is logged once when it starts and once when it ends.
 */
export class Database {
  readonly pool: pg.Pool;
  readonly #logger: Logger;
  readonly #duration: Histogram<'operation' | 'outcome'>;
  readonly #poolMax: number;
  #unavailableSince: number | null = null;
  #busyWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: DatabaseOptions) {
    this.#logger = options.logger;
    this.#poolMax = options.poolMax;
    this.pool = new pg.Pool({
      ...pgConnection(options.url, options.sslRootCert),
      application_name: options.applicationName,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection emits here; without a listener it would crash the process.
    this.pool.on('error', (err) => this.#markUnavailable(err));
    this.#duration = new Histogram({
      name: 'db_query_duration_seconds',
      help: 'Database statement or transaction duration by operation.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [options.registry],
    });
    const pool = this.pool;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting = requests queued for a connection).',
      labelNames: ['state'] as const,
      registers: [options.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  /**
   * One parameterised statement. `operation` names it in metrics (e.g. `users.get`) and names the prepared
   * statement, so PostgreSQL parses and plans it once per connection rather than on every call: one
   * operation, one statement text (node-postgres refuses a name reused for other text).
   */
  query<R extends pg.QueryResultRow>(operation: string, text: string, values: unknown[] = []) {
    return this.#timed(operation, () => this.pool.query<R>({ name: operation, text, values }));
  }

  /** Runs `work` in a transaction on one connection; rolls back on any error. */
  transaction<T>(operation: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#timed(operation, async () => {
      const client = await this.pool.connect();
      // pg emits 'error' on a checked-out client whose connection dies (server restart, network cut); with
      // no listener that is an uncaught exception and the process exits. The statement in flight rejects
      // anyway, so the listener only keeps the error: release(err) then discards the broken connection.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (!broken) {
          await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
            broken = rollbackFailed;
          });
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    });
  }

  /** For readiness: a round trip to the server. */
  async check(): Promise<void> {
    await this.query('health.check', 'SELECT 1');
  }

  /** Idempotent: shutdown paths may reach it more than once. */
  async close(): Promise<void> {
    if (this.pool.ended || this.pool.ending) return;
    await this.pool.end();
  }

  async #timed<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      this.#duration.observe({ operation, outcome: 'ok' }, (performance.now() - started) / 1000);
      this.#markAvailable();
      return result;
    } catch (err) {
      if (this.#poolWasBusy(err)) {
        this.#duration.observe({ operation, outcome: 'busy' }, (performance.now() - started) / 1000);
        throw new DatabaseBusyError();
      }
      const unavailable = isUnavailable(err);
      this.#duration.observe(
        { operation, outcome: unavailable ? 'unavailable' : 'error' },
        (performance.now() - started) / 1000,
      );
      if (unavailable) {
        this.#markUnavailable(err);
        throw new DatabaseUnavailableError();
      }
      throw err;
    }
  }

  /** A checkout that timed out while every connection of a full pool was in use: busy, not down. */
  #poolWasBusy(err: unknown): boolean {
    if (!(err instanceof Error) || !POOL_TIMEOUT.test(err.message)) return false;
    if (this.pool.totalCount < this.#poolMax || this.pool.idleCount > 0) return false;
    const now = performance.now();
    if (now - this.#busyWarnedAt >= BUSY_WARN_INTERVAL_MS) {
      this.#busyWarnedAt = now;
      this.#logger.warn(
        { pool_max: this.#poolMax, waiting: this.pool.waitingCount },
        'database pool busy: every connection in use for DB_CONNECT_TIMEOUT_MS, answering 503 overloaded',
      );
    }
    return true;
  }

  #markUnavailable(err: unknown): void {
    if (this.#unavailableSince !== null) return;
    this.#unavailableSince = performance.now();
    this.#logger.error(
      { error: describeDbError(err) },
      'database unavailable: answering 503 until it is back',
    );
  }

  #markAvailable(): void {
    if (this.#unavailableSince === null) return;
    const downMs = Math.round(performance.now() - this.#unavailableSince);
    this.#unavailableSince = null;
    this.#logger.info({ down_ms: downMs }, 'database available again');
  }
}
