/**
 * The documented default of every variable in the kit's `commonEnvShape`, as the manual's configuration
 * table states them, written out by hand: a test compares what parsing gives with these, so a changed
 * default fails until the manual and this table say the same.
 */
export const COMMON_ENV_DEFAULTS = {
  HOST: '::',
  PROBE_PORT: 0,
  LOG_LEVEL: 'info',
  SHUTDOWN_DELAY_MS: 5_000,
  SHUTDOWN_TIMEOUT_MS: 10_000,
  KEEP_ALIVE_TIMEOUT_MS: 65_000,
  BODY_LIMIT_BYTES: 1_048_576,
  MAX_RESPONSE_BYTES: 1_048_576,
  MAX_CONCURRENT_LISTS: 8,
  MAX_CONNECTIONS: 768,
  MAX_INFLIGHT_REQUESTS: 256,
  MAX_PIPELINED_REQUESTS: 4,
  MAX_UNSENT_RESPONSE_BYTES: 16_777_216,
  MAX_REQUEST_BODY_BYTES_HELD: 16_777_216,
  HEADERS_TIMEOUT_MS: 10_000,
  REQUEST_TIMEOUT_MS: 30_000,
  MIN_BODY_BYTES_PER_SECOND: 1_024,
  SEND_TIMEOUT_MS: 30_000,
  CORS_ORIGINS: [],
  RATE_LIMIT_ENABLED: false,
  RATE_LIMIT_RPS: 100,
  RATE_LIMIT_BURST: 200,
  RATE_LIMIT_MAX_CLIENTS: 10_000,
  TRUSTED_PROXIES: [],
  GIT_COMMIT: 'unknown',
  FAULTS_ENABLED: false,
} as const;
