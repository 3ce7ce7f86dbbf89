import { COMMON_ENV_DEFAULTS, configErrorOf } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { parseUserServiceEnv } from './env.js';

describe('parseUserServiceEnv', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    expect(parseUserServiceEnv({})).toEqual({
      PORT: 8000,
      ...COMMON_ENV_DEFAULTS,
      DATABASE_URL: { kind: 'memory' },
      DATABASE_REQUIRED: false,
      DB_POOL_MAX: 10,
      DB_CONNECT_TIMEOUT_MS: 5_000,
      DB_STATEMENT_TIMEOUT_MS: 5_000,
      DB_MIGRATE_ON_START: true,
      MEMORY_STORE_MAX_BYTES: 33_554_432,
      DB_MIGRATE_RETRY_MS: 40_000,
      DB_MIGRATE_LOCK_TIMEOUT_MS: 30_000,
    });
  });

  it.each([
    ['postgres://app:secret@db:5432/users?sslmode=require', 'postgres'],
    ['postgresql://db/users', 'postgres'],
    ['memory://', 'memory'],
  ])('when DATABASE_URL is %s, then the storage kind is %s', (url, kind) => {
    expect(parseUserServiceEnv({ DATABASE_URL: url }).DATABASE_URL.kind).toBe(kind);
  });

  it.each(['mysql://db/users', 'not a url', 'file:///tmp/x'])(
    'when DATABASE_URL is %s, then it is rejected without echoing the value',
    (url) => {
      const error = configErrorOf(() => parseUserServiceEnv({ DATABASE_URL: url }));
      expect(error.message).toContain('DATABASE_URL');
      expect(error.message).not.toContain(url);
    },
  );

  it('when APP_VERSION is unset, then it stays undefined so main can fall back to package.json', () => {
    expect(parseUserServiceEnv({}).APP_VERSION).toBeUndefined();
  });

  it('when every variable is set, then each is parsed into its type', () => {
    const env = parseUserServiceEnv({
      PORT: '9000',
      HOST: '127.0.0.1',
      PROBE_PORT: '9100',
      LOG_LEVEL: 'debug',
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '30000',
      KEEP_ALIVE_TIMEOUT_MS: '5000',
      BODY_LIMIT_BYTES: '2048',
      MAX_RESPONSE_BYTES: '2097152',
      MAX_CONCURRENT_LISTS: '3',
      MAX_CONNECTIONS: '200',
      MAX_INFLIGHT_REQUESTS: '64',
      MAX_PIPELINED_REQUESTS: '1',
      MAX_UNSENT_RESPONSE_BYTES: '8388608',
      MAX_REQUEST_BODY_BYTES_HELD: '4194304',
      HEADERS_TIMEOUT_MS: '5000',
      REQUEST_TIMEOUT_MS: '20000',
      MIN_BODY_BYTES_PER_SECOND: '0',
      SEND_TIMEOUT_MS: '15000',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:3000',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_RPS: '2.5',
      RATE_LIMIT_BURST: '10',
      RATE_LIMIT_MAX_CLIENTS: '500',
      TRUSTED_PROXIES: '192.0.2.0/24, 2001:db8::1',
      APP_VERSION: '2.0.0',
      GIT_COMMIT: 'abc1234',
      FAULTS_ENABLED: 'true',
      FAULT_MODE: 'slow',
      FAULT_DELAY_MS: '200-800',
      FAULT_ERROR_RATE: '0.25',
      AUTH_ENABLED: 'true',
      AUTH_ISSUERS: 'https://id.example.com/realms/shop, https://login.example.org/tenant/v2.0',
      AUTH_AUDIENCE: 'users-api',
      AUTH_ALGORITHMS: 'RS256,ES384',
      AUTH_CLOCK_TOLERANCE_SECONDS: '5',
      AUTH_REQUIRE_AT_JWT: 'true',
      AUTH_USER_ID_CLAIM: 'customer_id',
      AUTH_WORKLOAD_ISSUER: 'https://kubernetes.default.svc.cluster.local',
      AUTH_WORKLOAD_SUBJECTS: 'system:serviceaccount:shop:order-service=users:read',
      AUTH_IDP_TIMEOUT_MS: '500',
      AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: '10',
      DATABASE_URL: 'postgres://app@db:5432/users',
      DATABASE_REQUIRED: 'true',
      DB_POOL_MAX: '20',
      DB_CONNECT_TIMEOUT_MS: '2000',
      DB_STATEMENT_TIMEOUT_MS: '3000',
      DB_MIGRATE_ON_START: 'false',
      MEMORY_STORE_MAX_BYTES: '1048576',
      DB_SSL_ROOT_CERT: '/etc/postgresql-ca/ca.crt',
      DB_MIGRATE_RETRY_MS: '60000',
      DB_MIGRATE_LOCK_TIMEOUT_MS: '15000',
    });
    expect(env).toEqual({
      PORT: 9000,
      HOST: '127.0.0.1',
      PROBE_PORT: 9100,
      LOG_LEVEL: 'debug',
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 30_000,
      KEEP_ALIVE_TIMEOUT_MS: 5_000,
      BODY_LIMIT_BYTES: 2_048,
      MAX_RESPONSE_BYTES: 2_097_152,
      MAX_CONCURRENT_LISTS: 3,
      MAX_CONNECTIONS: 200,
      MAX_INFLIGHT_REQUESTS: 64,
      MAX_PIPELINED_REQUESTS: 1,
      MAX_UNSENT_RESPONSE_BYTES: 8_388_608,
      MAX_REQUEST_BODY_BYTES_HELD: 4_194_304,
      HEADERS_TIMEOUT_MS: 5_000,
      REQUEST_TIMEOUT_MS: 20_000,
      MIN_BODY_BYTES_PER_SECOND: 0,
      SEND_TIMEOUT_MS: 15_000,
      CORS_ORIGINS: ['https://app.example.com', 'http://localhost:3000'],
      RATE_LIMIT_ENABLED: true,
      RATE_LIMIT_RPS: 2.5,
      RATE_LIMIT_BURST: 10,
      RATE_LIMIT_MAX_CLIENTS: 500,
      TRUSTED_PROXIES: ['192.0.2.0/24', '2001:db8::1'],
      APP_VERSION: '2.0.0',
      GIT_COMMIT: 'abc1234',
      FAULTS_ENABLED: true,
      FAULT_MODE: 'slow',
      FAULT_DELAY_MS: { min: 200, max: 800 },
      FAULT_ERROR_RATE: 0.25,
      AUTH_ENABLED: true,
      AUTH_ISSUERS: ['https://id.example.com/realms/shop', 'https://login.example.org/tenant/v2.0'],
      AUTH_AUDIENCE: 'users-api',
      AUTH_ALGORITHMS: ['RS256', 'ES384'],
      AUTH_CLOCK_TOLERANCE_SECONDS: 5,
      AUTH_REQUIRE_AT_JWT: true,
      AUTH_USER_ID_CLAIM: 'customer_id',
      AUTH_WORKLOAD_ISSUER: 'https://kubernetes.default.svc.cluster.local',
      AUTH_WORKLOAD_SUBJECTS: ['system:serviceaccount:shop:order-service=users:read'],
      AUTH_IDP_TIMEOUT_MS: 500,
      AUTH_JWKS_REFETCH_COOLDOWN_SECONDS: 10,
      DATABASE_URL: { kind: 'postgres', url: 'postgres://app@db:5432/users' },
      DATABASE_REQUIRED: true,
      DB_POOL_MAX: 20,
      DB_CONNECT_TIMEOUT_MS: 2_000,
      DB_STATEMENT_TIMEOUT_MS: 3_000,
      DB_MIGRATE_ON_START: false,
      MEMORY_STORE_MAX_BYTES: 1_048_576,
      DB_SSL_ROOT_CERT: '/etc/postgresql-ca/ca.crt',
      DB_MIGRATE_RETRY_MS: 60_000,
      DB_MIGRATE_LOCK_TIMEOUT_MS: 15_000,
    });
  });

  it('when a variable is set to an empty string, then its default applies', () => {
    expect(parseUserServiceEnv({ PORT: '', LOG_LEVEL: '' })).toMatchObject({ PORT: 8000, LOG_LEVEL: 'info' });
  });

  it('when the real process environment has unrelated variables, then they are ignored', () => {
    expect(parseUserServiceEnv({ PATH: '/bin', NODE_ENV: 'production' })).not.toHaveProperty('PATH');
  });

  it('when PORT=abc and LOG_LEVEL=loud, then one ConfigError names both', () => {
    const error = configErrorOf(() => parseUserServiceEnv({ PORT: 'abc', LOG_LEVEL: 'loud' }));
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.problems).toHaveLength(2);
  });

  it('when many variables are bad, then every one is named in the message', () => {
    const bad = {
      PORT: '70000',
      LOG_LEVEL: 'verbose',
      SHUTDOWN_DELAY_MS: '-1',
      SHUTDOWN_TIMEOUT_MS: 'soon',
      KEEP_ALIVE_TIMEOUT_MS: '10',
      BODY_LIMIT_BYTES: '1.5',
      CORS_ORIGINS: 'not a url',
      MAX_CONNECTIONS: '0',
      MAX_PIPELINED_REQUESTS: '1000',
      MAX_UNSENT_RESPONSE_BYTES: '1024',
      HEADERS_TIMEOUT_MS: '10',
    };
    const error = configErrorOf(() => parseUserServiceEnv(bad));
    for (const name of Object.keys(bad)) expect(error.message).toContain(name);
  });

  it.each(['0', '65536', '80.5', 'eighty'])('when PORT=%s, then it is rejected', (port) => {
    expect(() => parseUserServiceEnv({ PORT: port })).toThrow(/PORT/);
  });
});
