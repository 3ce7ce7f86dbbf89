import { z } from 'zod';
import { booleanVar, intVar } from '../../base/env-vars.js';
import { DEFAULT_MEMORY_STORE_MAX_BYTES } from '../memory-budget.js';

/** Where a service keeps its data: the embedded in-process store, or a PostgreSQL server. */
export type StorageTarget = { kind: 'memory' } | { kind: 'postgres'; url: string };

const databaseUrl = z
  .string()
  .refine(
    (raw) =>
      raw === 'memory://' ||
      (URL.canParse(raw) && ['postgres:', 'postgresql:'].includes(new URL(raw).protocol)),
    'must be postgres://user:password@host:5432/database (or postgresql://…), or memory://',
  )
  .optional()
  .transform(
    (raw): StorageTarget =>
      !raw || raw === 'memory://' ? { kind: 'memory' } : { kind: 'postgres', url: raw },
  );

/** Storage settings both services understand. `sslmode` and the like go in the URL's query string. */
export const databaseEnvShape = {
  DATABASE_URL: databaseUrl,
  DB_POOL_MAX: intVar(10, 1, 1_000),
  DB_CONNECT_TIMEOUT_MS: intVar(5_000, 100, 120_000),
  DB_STATEMENT_TIMEOUT_MS: intVar(5_000, 100, 600_000),
  /**
   * Set by the chart whenever it gives the service a database: an empty or missing DATABASE_URL is then a
   * refused start-up, never a silent in-memory store (a Secret with an empty `uri` had every pod run its
   * own store, and the migration Job succeed, with nothing persisted).
   */
  DATABASE_REQUIRED: booleanVar(false),
  /** Off when a Kubernetes Job / Argo CD PreSync hook runs `migrate` before the rollout. */
  DB_MIGRATE_ON_START: booleanVar(true),
  /** Only for the in-memory store (DATABASE_URL unset): what it may hold before writes answer 507. */
  MEMORY_STORE_MAX_BYTES: intVar(DEFAULT_MEMORY_STORE_MAX_BYTES, 1_048_576, 17_179_869_184),
  /**
   * PEM file of the CA that signed the database server's certificate (a managed database's CA bundle):
   * when set, the connection is TLS with `verify-full` against it, never plain text.
   */
  DB_SSL_ROOT_CERT: z.string().min(1).optional(),
  /**
   * How long migration (at start-up and in the migrate Job) keeps retrying a database that is not reachable
   * yet, or a migration lock held by someone else, before giving up. The worst case of a start-up is this,
   * plus one more connect (DB_CONNECT_TIMEOUT_MS) and lock wait (DB_MIGRATE_LOCK_TIMEOUT_MS): the chart
   * sizes the startup probe from the three.
   */
  DB_MIGRATE_RETRY_MS: intVar(40_000, 0, 600_000),
  /** The longest one attempt waits for the migration advisory lock (another replica or Job migrating). */
  DB_MIGRATE_LOCK_TIMEOUT_MS: intVar(30_000, 1_000, 600_000),
};

export type DatabaseEnv = z.output<z.ZodObject<typeof databaseEnvShape>>;

/**
 * The storage settings that only make sense together, for a service's (or the migrate command's) whole
 * environment schema: `.superRefine(refineStorageChoice)`. The in-memory store is refused when a database
 * was asked for: DATABASE_REQUIRED, or a database CA (DB_SSL_ROOT_CERT) with no database to use it for.
 */
export function refineStorageChoice(env: DatabaseEnv, ctx: z.RefinementCtx): void {
  if (env.DATABASE_URL.kind === 'postgres') return;
  const refuse = (because: string) =>
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_URL'],
      message: `is empty or memory://, but ${because}: set it to the database's postgres:// URL (is its Secret's value empty?)`,
    });
  if (env.DATABASE_REQUIRED) refuse('DATABASE_REQUIRED=true asks for a database');
  else if (env.DB_SSL_ROOT_CERT !== undefined) refuse('DB_SSL_ROOT_CERT names a database CA');
}
