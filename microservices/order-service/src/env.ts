import {
  booleanVar,
  commonEnvShape,
  databaseEnvShape,
  type EnvSource,
  intVar,
  parseEnv,
  portVar,
  refineStorageChoice,
} from '@microservices/service-kit';
import { z } from 'zod';

const schema = z
  .object({
    ...commonEnvShape,
    ...databaseEnvShape,
    PORT: portVar(8001),
    USER_SERVICE_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .default('http://127.0.0.1:8000'),
    USER_SERVICE_TIMEOUT_MS: intVar(1_000, 10, 60_000),
    USER_SERVICE_DEADLINE_MS: intVar(2_500, 10, 120_000),
    USER_SERVICE_RETRIES: intVar(2, 0, 10),
    USER_SERVICE_RETRY_BASE_MS: intVar(50, 1, 10_000),
    USER_SERVICE_BREAKER_THRESHOLD: intVar(5, 1, 1_000),
    USER_SERVICE_BREAKER_HALF_OPEN_MS: intVar(5_000, 100, 600_000),
    USER_SERVICE_CONNECTIONS: intVar(64, 1, 10_000),
    USER_CACHE_ENABLED: booleanVar(true),
    USER_CACHE_TTL_MS: intVar(30_000, 1, 86_400_000),
    USER_CACHE_MAX_ENTRIES: intVar(10_000, 1, 10_000_000),
  })
  .refine((env) => env.USER_SERVICE_DEADLINE_MS >= env.USER_SERVICE_TIMEOUT_MS, {
    path: ['USER_SERVICE_DEADLINE_MS'],
    message: 'must be >= USER_SERVICE_TIMEOUT_MS',
  })
  .superRefine(refineStorageChoice);

export type OrderServiceEnv = z.output<typeof schema>;

/** Reads order-service configuration; throws ConfigError naming every bad variable. */
export const parseOrderServiceEnv = (source: EnvSource): OrderServiceEnv => parseEnv(schema, source);
