import { z } from 'zod';
import { booleanVar, commaList, intVar, numberVar } from '../base/env-vars.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../edge/body-limit.js';
import { isProxyEntry } from '../edge/client-address.js';
import { faultEnvShape } from '../routes/faults/fault-env.js';
import { DEFAULT_MAX_RESPONSE_BYTES, MIN_MAX_RESPONSE_BYTES } from '../routes/paging/page-reply.js';
import { DEFAULT_MAX_CONCURRENT_LISTS } from '../routes/paging/pager.js';
import { authEnvShape } from './auth-env.js';
import { DEFAULT_SERVER_LIMITS as limits } from './server/limits.js';

export { booleanVar, decimalVar, intVar, numberVar, portVar } from '../base/env-vars.js';

/** Raised when the environment does not satisfy a service's schema; `message` names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Variables whose values are never repeated in error messages. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|DATABASE_URL/i;

/**
 * Parses `source` (normally `process.env`) with `schema`, collecting every problem into one
 * ConfigError instead of stopping at the first. Empty strings count as unset so that
 * `FOO=` in a compose file falls back to the default rather than failing number parsing.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: EnvSource): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const key = typeof issue.path[0] === 'string' ? issue.path[0] : '';
    const got = cleaned[key];
    // The message lands in logs: never echo a value that may carry a credential.
    if (got === undefined || SECRET_NAME.test(key)) return `${name}: ${issue.message}`;
    return `${name}: ${issue.message} (got "${got.slice(0, 100)}")`;
  });
  throw new ConfigError(problems);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Comma-separated list of absolute http(s) origins; empty means CORS stays off. */
const corsOrigins = commaList(
  z
    .url({ protocol: /^https?$/, error: 'must be comma-separated http(s) origins' })
    // Browsers send a bare origin; anything with a path, query or trailing slash would never match.
    .refine(
      (u) => URL.canParse(u) && new URL(u).origin === u,
      'each entry must be a bare origin, e.g. https://app.example.com',
    ),
);

/** Comma-separated addresses or CIDR ranges whose X-Forwarded-For is believed; empty: none. */
const trustedProxies = commaList(
  z.string().refine(isProxyEntry, 'each entry must be an IP address or CIDR range, e.g. 10.0.0.0/8'),
);

/** Variables every service understands. Each service extends this with its own. */
export const commonEnvShape = {
  // '::' listens on IPv6 and, dual-stack, on IPv4 too (IPv6-only clusters such as EKS IPv6 need it).
  HOST: z.string().min(1).default('::'),
  // A second port for the health probes alone (boot/server/probe-listener.ts says why); 0: none.
  PROBE_PORT: intVar(0, 0, 65535),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  SHUTDOWN_DELAY_MS: intVar(5_000, 0, 120_000),
  SHUTDOWN_TIMEOUT_MS: intVar(10_000, 0, 600_000),
  KEEP_ALIVE_TIMEOUT_MS: intVar(65_000, 1_000, 600_000),
  BODY_LIMIT_BYTES: intVar(DEFAULT_BODY_LIMIT_BYTES, 1_024, 104_857_600),
  MAX_RESPONSE_BYTES: intVar(DEFAULT_MAX_RESPONSE_BYTES, MIN_MAX_RESPONSE_BYTES, 67_108_864),
  MAX_CONCURRENT_LISTS: intVar(DEFAULT_MAX_CONCURRENT_LISTS, 1, 10_000),
  // The server's bounds on connections and requests; boot/server/limits.ts gives the reasoning for each default.
  MAX_CONNECTIONS: intVar(limits.maxConnections, 1, 1_000_000),
  MAX_INFLIGHT_REQUESTS: intVar(limits.maxInflightRequests, 1, 100_000),
  MAX_PIPELINED_REQUESTS: intVar(limits.maxPipelinedRequests, 1, 128),
  // At least one largest list page (MAX_RESPONSE_BYTES' floor) must fit.
  MAX_UNSENT_RESPONSE_BYTES: intVar(limits.maxUnsentResponseBytes, MIN_MAX_RESPONSE_BYTES, 1_073_741_824),
  MAX_REQUEST_BODY_BYTES_HELD: intVar(limits.maxRequestBodyBytesHeld, 1_024, 1_073_741_824),
  HEADERS_TIMEOUT_MS: intVar(limits.headersTimeoutMs, 1_000, 600_000),
  REQUEST_TIMEOUT_MS: intVar(limits.requestTimeoutMs, 1_000, 600_000),
  // 0 turns the minimum body rate off (REQUEST_TIMEOUT_MS still bounds a body).
  MIN_BODY_BYTES_PER_SECOND: intVar(limits.minBodyBytesPerSecond, 0, 1_000_000_000),
  SEND_TIMEOUT_MS: intVar(limits.sendTimeoutMs, 1_000, 600_000),
  CORS_ORIGINS: corsOrigins,
  RATE_LIMIT_ENABLED: booleanVar(false),
  RATE_LIMIT_RPS: numberVar(100, 0.01, 1_000_000),
  RATE_LIMIT_BURST: intVar(200, 1, 1_000_000),
  RATE_LIMIT_MAX_CLIENTS: intVar(10_000, 1, 10_000_000),
  TRUSTED_PROXIES: trustedProxies,
  APP_VERSION: z.string().max(64).optional(),
  GIT_COMMIT: z.string().max(64).default('unknown'),
  ...faultEnvShape,
  ...authEnvShape,
};

export type CommonEnv = z.output<z.ZodObject<typeof commonEnvShape>>;
