import {
  booleanVar,
  commonEnvShape,
  databaseEnvShape,
  type EnvSource,
  intVar,
  parseEnv,
  portVar,
  refineAuthChoice,
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
    // order-service's own identity towards user-service: a projected ServiceAccount token file, or OAuth2
    // client credentials (user-client/call-credentials.ts); neither: calls carry no token.
    USER_SERVICE_TOKEN_FILE: z.string().min(1).optional(),
    USER_SERVICE_TOKEN_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    USER_SERVICE_CLIENT_ID: z.string().min(1).max(256).optional(),
    USER_SERVICE_CLIENT_SECRET: z.string().min(1).max(4_096).optional(),
    USER_SERVICE_TOKEN_SCOPE: z.string().max(1_024).default('users:read'),
    USER_SERVICE_TOKEN_AUDIENCE: z.string().max(256).default(''),
  })
  .refine((env) => env.USER_SERVICE_DEADLINE_MS >= env.USER_SERVICE_TIMEOUT_MS, {
    path: ['USER_SERVICE_DEADLINE_MS'],
    message: 'must be >= USER_SERVICE_TIMEOUT_MS',
  })
  .superRefine((env, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (env.USER_SERVICE_TOKEN_FILE !== undefined && env.USER_SERVICE_TOKEN_URL !== undefined) {
      issue('USER_SERVICE_TOKEN_URL', 'set USER_SERVICE_TOKEN_FILE or USER_SERVICE_TOKEN_URL, not both');
    }
    if (env.USER_SERVICE_TOKEN_URL !== undefined) {
      if (env.USER_SERVICE_CLIENT_ID === undefined)
        issue('USER_SERVICE_CLIENT_ID', 'needed with USER_SERVICE_TOKEN_URL');
      if (env.USER_SERVICE_CLIENT_SECRET === undefined) {
        issue('USER_SERVICE_CLIENT_SECRET', 'needed with USER_SERVICE_TOKEN_URL');
      }
    }
  })
  .superRefine(refineStorageChoice)
  .superRefine(refineAuthChoice);

export type OrderServiceEnv = z.output<typeof schema>;

/** Reads order-service configuration; throws ConfigError naming every bad variable. */
export const parseOrderServiceEnv = (source: EnvSource): OrderServiceEnv => parseEnv(schema, source);
