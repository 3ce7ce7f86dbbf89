import { z } from 'zod';
import { booleanVar, intVar } from '../config/env.js';
import { DEFAULT_MEMORY_STORE_MAX_BYTES } from '../memory/memory-budget.js';

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
  /** Off when a Kubernetes Job / Argo CD PreSync hook runs `migrate` before the rollout. */
  DB_MIGRATE_ON_START: booleanVar(true),
  /** Only for the in-memory store (DATABASE_URL unset): what it may hold before writes answer 507. */
  MEMORY_STORE_MAX_BYTES: intVar(DEFAULT_MEMORY_STORE_MAX_BYTES, 1_048_576, 17_179_869_184),
};

export type DatabaseEnv = z.output<z.ZodObject<typeof databaseEnvShape>>;
