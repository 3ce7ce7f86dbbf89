import { createMetricsRegistry, silentLogger } from '@microservices/service-kit';
import { captureLogger } from '@microservices/service-kit/testing';
import { Agent, MockAgent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricValue } from '../test-app.js';
import { type CallCredentials, CredentialsUnavailable } from './call-credentials.js';
import { createHttpUserClient, type ResilienceOptions } from './http-user-client.js';
import { InvalidUserIdError, UserServiceUnavailableError } from './user-client.js';
import { createUserClientMetrics } from './user-client-metrics.js';
import { userPath } from './user-service-transport.js';

const ORIGIN = 'http://user-service.test';
const USER = {
  id: 'u1',
  name: 'John Doe',
  email: 'john.doe@example.com',
  age: 30,
  created_at: '2026-01-01T00:00:00.000Z',
};

const agents: MockAgent[] = [];
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

/** A client over a MockAgent that refuses real network access, with its own metrics registry. */
function setup(
  resilience: Partial<ResilienceOptions> = {},
  baseUrl = ORIGIN,
  logger = silentLogger(),
  credentials?: CallCredentials,
) {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  agents.push(agent);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const client = createHttpUserClient({
    baseUrl,
    dispatcher: agent,
    metrics: createUserClientMetrics(registry),
    logger,
    credentials,
    resilience: {
      attemptTimeoutMs: 50,
      deadlineMs: 400,
      retries: 2,
      retryBaseDelayMs: 1,
      breakerThreshold: 3,
      halfOpenAfterMs: 200,
      ...resilience,
    },
  });
  const pool = agent.get(ORIGIN);
  const userRoute = (id = 'u1') => pool.intercept({ path: userPath(id), method: 'GET' });
  return {
    agent,
    pool,
    client,
    registry,
    userRoute,
    /** Requests that reached the mock (matched or not). */
    requestCount: () => agent.getCallHistory()?.calls().length ?? 0,
    outcome: (outcome: string) => metricValue(registry, 'user_service_requests_total', { outcome }),
    breakerState: () => metricValue(registry, 'user_service_circuit_state'),
  };
}

const lookUp = (client: ReturnType<typeof setup>['client'], id = 'u1', requestId = 'r-1') =>
  client.getUser(id, { requestId });

/** The UserServiceUnavailableError a lookup throws; fails the test if it resolves or throws anything else. */
async function unavailable(promise: Promise<unknown>): Promise<UserServiceUnavailableError> {
  const err = await promise.then(
    () => new Error('expected the lookup to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserServiceUnavailableError);
  return err as UserServiceUnavailableError;
}

/** Opens the breaker (threshold 3, retries 2): one lookup whose three attempts all get a 500. */
async function openBreaker(t: ReturnType<typeof setup>) {
  t.userRoute().reply(500, 'boom').times(3);
  await unavailable(lookUp(t.client));
}

describe('getUser: answers', () => {
  it('when user-service answers 200 with the user, then it answers {id} after one found attempt', async () => {
    const t = setup();
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(t.requestCount()).toBe(1);
    expect(await t.outcome('found')).toBe(1);
  });

  it('when the lookup succeeds, then its duration is observed under outcome="found"', async () => {
    const t = setup();
    t.userRoute().reply(200, USER);
    await lookUp(t.client);
    const text = await t.registry.getSingleMetricAsString('user_service_request_duration_seconds');
    expect(text).toContain('user_service_request_duration_seconds_count{outcome="found"} 1');
  });

  it('when user-service answers 404, then it answers null after exactly one attempt', async () => {
    const t = setup();
    t.userRoute().reply(404, { detail: 'User not found' }).persist();
    expect(await lookUp(t.client)).toBeNull();
    expect(t.requestCount()).toBe(1);
    expect(await t.outcome('not_found')).toBe(1);
  });

  it('when user-service answers 404 many times, then the breaker stays closed', async () => {
    const t = setup();
    t.userRoute().reply(404, {}).persist();
    for (let i = 0; i < 5; i++) await lookUp(t.client);
    expect(await t.breakerState()).toBe(0);
    expect(t.requestCount()).toBe(5);
  });

  it('when the lookup is sent, then it asks for JSON and forwards the request id', async () => {
    const t = setup();
    t.pool
      .intercept({
        path: '/api/v1/users/u1',
        method: 'GET',
        headers: { 'x-request-id': 'r-1', accept: 'application/json' },
      })
      .reply(200, USER);
    expect(await lookUp(t.client, 'u1', 'r-1')).toEqual({ id: 'u1' });
  });

  it('when the request id differs from what user-service expects, then the call does not match', async () => {
    const t = setup({ retries: 0 });
    t.pool
      .intercept({ path: '/api/v1/users/u1', method: 'GET', headers: { 'x-request-id': 'r-1' } })
      .reply(200, USER);
    await unavailable(lookUp(t.client, 'u1', 'other-id'));
  });
});

describe('getUser: retries', () => {
  it('when user-service answers 503 and then 200, then it succeeds on the second attempt', async () => {
    const t = setup();
    t.userRoute().reply(503, 'busy');
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(t.requestCount()).toBe(2);
    expect([await t.outcome('server_error'), await t.outcome('found')]).toEqual([1, 1]);
  });

  it('when user-service answers 429 and then 200, then it retries and succeeds', async () => {
    const t = setup();
    t.userRoute().reply(429, 'slow down');
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(t.requestCount()).toBe(2);
  });

  it('when user-service answers 500 three times, then it fails with server_error after exactly three attempts', async () => {
    const t = setup({ breakerThreshold: 10 });
    t.userRoute().reply(500, 'boom').persist();
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('server_error');
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(t.requestCount()).toBe(3);
    expect(await t.outcome('server_error')).toBe(3);
  });

  it('when retries is 0, then a 500 fails after a single attempt', async () => {
    const t = setup({ retries: 0 });
    t.userRoute().reply(500, 'boom').persist();
    await unavailable(lookUp(t.client));
    expect(t.requestCount()).toBe(1);
  });

  it('when the connection fails, then it retries and reports connection_error', async () => {
    const t = setup({ breakerThreshold: 10 });
    t.userRoute().replyWithError(new Error('ECONNREFUSED')).times(3);
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('connection_error');
    expect(t.requestCount()).toBe(3);
    expect(await t.outcome('connection_error')).toBe(3);
  });

  it('when the connection fails once and then succeeds, then it answers the user', async () => {
    const t = setup();
    t.userRoute().replyWithError(new Error('ECONNRESET'));
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect([await t.outcome('connection_error'), await t.outcome('found')]).toEqual([1, 1]);
  });

  it('when every reply is slower than the attempt timeout, then each attempt is counted as a timeout', async () => {
    const t = setup({ breakerThreshold: 10 });
    t.userRoute().reply(200, USER).delay(200).times(3);
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('timeout');
    expect(await t.outcome('timeout')).toBe(3);
    expect(await t.outcome('found')).toBe(0);
  });

  it('when only the first reply is slow, then the retry answers the user', async () => {
    const t = setup();
    t.userRoute().reply(200, USER).delay(200);
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect([await t.outcome('timeout'), await t.outcome('found')]).toEqual([1, 1]);
  });
});

describe('getUser: answers that are not worth retrying', () => {
  it.each([
    ['a 200 carries a different user', 200, { ...USER, id: 'someone-else' }, {}],
    ['a 200 body is not JSON', 200, '<html>proxy error</html>', { headers: { 'content-type': 'text/html' } }],
    ['a 200 body is JSON null', 200, 'null', { headers: { 'content-type': 'application/json' } }],
    ['user-service answers 400', 400, { detail: 'bad' }, {}],
  ])('when %s, then it fails with bad_response after one attempt', async (_when, status, body, options) => {
    const t = setup();
    t.userRoute().reply(status, body, options).persist();
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('bad_response');
    expect(t.requestCount()).toBe(1);
    expect(await t.outcome('bad_response')).toBe(1);
  });

  it('when bad responses keep coming, then they do not open the breaker', async () => {
    const t = setup();
    t.userRoute().reply(200, { id: 'someone-else' }).times(4);
    for (let i = 0; i < 4; i++) await unavailable(lookUp(t.client));
    expect(await t.breakerState()).toBe(0);
    expect(t.requestCount()).toBe(4);
  });
});

describe('getUser: path encoding', () => {
  // A string intercept path is normalised by undici's mock (`%2E%2E` becomes `..` and is resolved), so the
  // exact path sent is matched with a function. Upstream parsers may still resolve a segment that is exactly
  // `%2E%2E`; then only a 404 (null) or a 200 naming this very id are accepted, so no other resource leaks in.
  it.each([
    ['../health', '/api/v1/users/%2E%2E%2Fhealth'],
    ['a/b', '/api/v1/users/a%2Fb'],
    ['a?admin=1', '/api/v1/users/a%3Fadmin%3D1'],
    ['a#frag', '/api/v1/users/a%23frag'],
    ['John Doe', '/api/v1/users/John%20Doe'],
    ['%2F', '/api/v1/users/%252F'],
    ['ü.1', '/api/v1/users/%C3%BC%2E1'],
  ])('when the id is %j, then the request path is exactly %s', async (id, path) => {
    const t = setup({ retries: 0 });
    t.pool.intercept({ path: (sent: string) => sent === path, method: 'GET' }).reply(200, { id });
    expect(await lookUp(t.client, id)).toEqual({ id });
  });
});

describe('getUser: ids that are path dot-segments', () => {
  it.each(['.', '..'])('when the id is %j, then it is not found without any request', async (id) => {
    const t = setup({ retries: 0 });
    expect(await lookUp(t.client, id)).toBeNull();
    expect(t.requestCount()).toBe(0);
  });
});

describe('getUser: base URL with a path prefix', () => {
  it('when USER_SERVICE_URL has a path, then requests keep it as a prefix', async () => {
    const t = setup({ retries: 0 }, `${ORIGIN}/users-api/`);
    t.pool.intercept({ path: '/users-api/api/v1/users/u1', method: 'GET' }).reply(200, { id: 'u1' });
    t.pool.intercept({ path: '/users-api/health/ready', method: 'GET' }).reply(200, {});
    expect(await lookUp(t.client, 'u1')).toEqual({ id: 'u1' });
    await t.client.checkReady(AbortSignal.timeout(1_000));
    expect(t.agent.pendingInterceptors()).toHaveLength(0);
  });
});

describe('getUser: circuit breaker', () => {
  it('when breakerThreshold attempts fail in a row, then the breaker opens (gauge 1)', async () => {
    const t = setup();
    expect(await t.breakerState()).toBe(0);
    await openBreaker(t);
    expect(await t.breakerState()).toBe(1);
  });

  it('when the breaker is open, then the next lookup fails fast with circuit_open and sends nothing', async () => {
    const t = setup();
    await openBreaker(t);
    t.userRoute().reply(200, USER);
    const sentBefore = t.requestCount();
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('circuit_open');
    expect(t.requestCount()).toBe(sentBefore);
    expect(t.agent.pendingInterceptors()).toHaveLength(1);
    expect(await t.outcome('circuit_open')).toBe(1);
  });

  it('when the breaker refuses lookups, then they are counted as circuit_open and never timed as latency', async () => {
    const t = setup();
    await openBreaker(t);
    for (let i = 0; i < 4; i++) await unavailable(lookUp(t.client));
    expect(await t.outcome('circuit_open')).toBe(4);
    const text = await t.registry.getSingleMetricAsString('user_service_request_duration_seconds');
    expect(text).not.toContain('outcome="circuit_open"');
    // Only the three attempts actually sent have a duration.
    expect(text).toContain('user_service_request_duration_seconds_count{outcome="server_error"} 3');
  });

  it('when the breaker is open, then Retry-After is at least 1 s and no more than the half-open delay', async () => {
    const t = setup({ halfOpenAfterMs: 5_000 });
    await openBreaker(t);
    const err = await unavailable(lookUp(t.client));
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(5);
  });

  it('when the half-open delay has passed and user-service answers, then the breaker closes again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = setup();
    await openBreaker(t);
    vi.advanceTimersByTime(250);
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(await t.breakerState()).toBe(0);
  });

  it('when the half-open trial fails, then the breaker opens again and lookups fail fast', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = setup();
    await openBreaker(t);
    vi.advanceTimersByTime(250);
    t.userRoute().reply(500, 'still down');
    await unavailable(lookUp(t.client));
    expect(await t.breakerState()).toBe(1);
    const sent = t.requestCount();
    expect((await unavailable(lookUp(t.client))).reason).toBe('circuit_open');
    expect(t.requestCount()).toBe(sent);
  });

  it('when the half-open delay has not passed, then lookups still fail fast', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = setup();
    await openBreaker(t);
    vi.advanceTimersByTime(150);
    expect((await unavailable(lookUp(t.client))).reason).toBe('circuit_open');
  });

  it('when a success comes between failures, then the consecutive count starts again', async () => {
    const t = setup({ retries: 0 });
    t.userRoute().reply(500, '').times(2);
    t.userRoute().reply(200, USER);
    t.userRoute().reply(500, '').times(2);
    for (let i = 0; i < 5; i++) await lookUp(t.client).catch(() => undefined);
    expect(await t.breakerState()).toBe(0);
  });
});

describe('getUser: deadline', () => {
  it('when every attempt hangs, then the call fails with timeout soon after deadlineMs', async () => {
    const deadlineMs = 100;
    const t = setup({ attemptTimeoutMs: 60, deadlineMs, retries: 5, breakerThreshold: 100 });
    t.userRoute().reply(200, USER).delay(500).persist();
    const started = performance.now();
    const err = await unavailable(lookUp(t.client));
    const elapsed = performance.now() - started;
    expect(err.reason).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 5);
    expect(elapsed).toBeLessThan(deadlineMs + 150);
    expect(t.requestCount()).toBe(2);
  });

  it('when the deadline passes during a retry backoff, then no further attempt is sent or counted', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Pins the jittered backoff near its maximum (≈ 137 ms for a 100 ms base), well past the 30 ms deadline.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const t = setup({
      attemptTimeoutMs: 20,
      deadlineMs: 30,
      retries: 1,
      retryBaseDelayMs: 100,
      breakerThreshold: 2,
    });
    t.userRoute().replyWithError(new Error('ECONNREFUSED')).times(2);
    const call = unavailable(lookUp(t.client));
    await vi.advanceTimersByTimeAsync(30);
    expect((await call).reason).toBe('timeout');
    await vi.advanceTimersByTimeAsync(500);
    expect(t.requestCount()).toBe(1);
    expect(await t.outcome('timeout')).toBe(0);
    expect(await t.breakerState()).toBe(0);
  });
});

describe('checkReady', () => {
  it('when user-service readiness answers 200, then it resolves', async () => {
    const t = setup();
    t.pool.intercept({ path: '/health/ready', method: 'GET' }).reply(200, { status: 'ready' });
    await expect(t.client.checkReady(AbortSignal.timeout(1_000))).resolves.toBeUndefined();
  });

  it('when user-service readiness answers 503, then it rejects naming the status', async () => {
    const t = setup();
    t.pool.intercept({ path: '/health/ready', method: 'GET' }).reply(503, { status: 'not_ready' });
    await expect(t.client.checkReady(AbortSignal.timeout(1_000))).rejects.toThrow(/503/);
  });

  it('when the breaker is open, then readiness still asks user-service', async () => {
    const t = setup();
    await openBreaker(t);
    t.pool.intercept({ path: '/health/ready', method: 'GET' }).reply(200, {});
    await expect(t.client.checkReady(AbortSignal.timeout(1_000))).resolves.toBeUndefined();
    expect(t.agent.pendingInterceptors()).toHaveLength(0);
  });

  it('when readiness checks fail, then they do not count against the breaker', async () => {
    const t = setup();
    t.pool.intercept({ path: '/health/ready', method: 'GET' }).reply(503, {}).times(5);
    for (let i = 0; i < 5; i++) await t.client.checkReady(AbortSignal.timeout(1_000)).catch(() => undefined);
    t.userRoute().reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(await t.breakerState()).toBe(0);
  });
});

describe('getUser: breaker accounting of requests that cannot be sent', () => {
  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'x\udfff'],
    ['a NUL', 'a\u0000b'],
    ['an empty id', ''],
  ])(
    'when the id holds %s, then it is refused before any request and never opens the breaker',
    async (_, id) => {
      const t = setup({ breakerThreshold: 2, retries: 0 });
      for (let i = 0; i < 5; i++) {
        await expect(lookUp(t.client, id)).rejects.toBeInstanceOf(InvalidUserIdError);
      }
      expect(t.requestCount()).toBe(0);
      expect(await t.breakerState()).toBe(0);
      t.userRoute().reply(200, USER);
      expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    },
  );

  it('when undici refuses to build the request, then it fails once, is not retried and never opens the breaker', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    // A real Agent: undici validates the request before connecting (a header value with a line break).
    const dispatcher = new Agent();
    const client = createHttpUserClient({
      baseUrl: 'http://127.0.0.1:9',
      dispatcher,
      metrics: createUserClientMetrics(registry),
      logger: silentLogger(),
      resilience: {
        attemptTimeoutMs: 500,
        deadlineMs: 2_000,
        retries: 2,
        retryBaseDelayMs: 1,
        breakerThreshold: 2,
        halfOpenAfterMs: 5_000,
      },
    });
    try {
      for (let i = 0; i < 4; i++) {
        const err = await unavailable(client.getUser('u1', { requestId: 'bad\r\nx: y' }));
        expect(err.reason).toBe('bad_response');
      }
      expect(await metricValue(registry, 'user_service_requests_total', { outcome: 'request_error' })).toBe(
        4,
      );
      expect(await metricValue(registry, 'user_service_circuit_state')).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });

  it('when attempt timeouts open the breaker, then the log line names timeout as the cause', async () => {
    const captured = captureLogger('warn');
    const t = setup({ attemptTimeoutMs: 20 }, ORIGIN, captured.logger);
    t.userRoute().reply(200, USER).delay(200).times(3);
    await unavailable(lookUp(t.client));
    const opened = captured.lines().find((l) => String(l.msg).includes('circuit breaker opened'));
    expect(opened).toMatchObject({ cause: 'timeout', consecutive_failures: 3 });
  });

  it('when the breaker opens, then the log line names the cause of the failures', async () => {
    const captured = captureLogger('warn');
    const t = setup({}, ORIGIN, captured.logger);
    await openBreaker(t);
    const opened = captured.lines().find((l) => String(l.msg).includes('circuit breaker opened'));
    expect(opened).toMatchObject({ cause: 'server_error', consecutive_failures: 3 });
  });
});

/** Credentials that hand out `token-<n>` (n counts invalidations), or fail while `failing` is set. */
function fakeCredentials() {
  const state = { generation: 1, asked: 0, failing: false };
  const credentials: CallCredentials = {
    async token() {
      state.asked += 1;
      if (state.failing) throw new CredentialsUnavailable('the provider is down');
      return `token-${state.generation}`;
    },
    invalidate() {
      state.generation += 1;
    },
  };
  return { credentials, state };
}

describe('HttpUserClient: order-service’s own identity towards user-service', () => {
  it('when credentials are configured, then every call carries them as a bearer token', async () => {
    const { credentials } = fakeCredentials();
    const t = setup({}, ORIGIN, silentLogger(), credentials);
    t.pool
      .intercept({ path: userPath('u1'), method: 'GET', headers: { authorization: 'Bearer token-1' } })
      .reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
  });

  it('when user-service refuses the token (401), then the call is a 503 credentials_refused: not retried, not counted by the breaker, and the next call presents a fresh token', async () => {
    const { credentials, state } = fakeCredentials();
    const t = setup({ breakerThreshold: 1 }, ORIGIN, silentLogger(), credentials);
    t.userRoute().reply(401, { title: 'Unauthorized' });
    const err = await unavailable(lookUp(t.client));
    expect(err.reason).toBe('credentials_refused');
    expect(t.requestCount()).toBe(1);
    expect(await t.outcome('credentials_refused')).toBe(1);
    expect(await t.breakerState()).toBe(0);
    t.pool
      .intercept({ path: userPath('u1'), method: 'GET', headers: { authorization: 'Bearer token-2' } })
      .reply(200, USER);
    expect(await lookUp(t.client)).toEqual({ id: 'u1' });
    expect(state.generation).toBe(2);
  });

  it('when no token can be had (the provider is down), then nothing is sent, attempts are retried and counted by the breaker, and the call is a 503 identity_unavailable', async () => {
    const { credentials, state } = fakeCredentials();
    const t = setup({ breakerThreshold: 3 }, ORIGIN, silentLogger(), credentials);
    state.failing = true;
    const err = await unavailable(lookUp(t.client));
    expect(['identity_unavailable', 'circuit_open']).toContain(err.reason);
    expect(t.requestCount()).toBe(0);
    expect(await t.outcome('identity_unavailable')).toBe(3);
    expect(await t.breakerState()).toBe(1);
  });
});
