import { createMetricsRegistry, silentLogger } from '@microservices/service-kit';
import { captureLogger } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { metricValue } from '../test-app.js';
import { createResiliencePolicy, type ResilienceOptions, RetryableFailure } from './resilience-policy.js';
import { createUserClientMetrics } from './user-client-metrics.js';

/** A policy with its own registry; attempts are plain functions, no HTTP. */
function setup(options: Partial<ResilienceOptions> = {}, logger = silentLogger()) {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const policy = createResiliencePolicy({
    options: {
      attemptTimeoutMs: 50,
      deadlineMs: 400,
      retries: 2,
      retryBaseDelayMs: 1,
      breakerThreshold: 3,
      halfOpenAfterMs: 5_000,
      ...options,
    },
    metrics: createUserClientMetrics(registry),
    logger,
  });
  let calls = 0;
  /** An attempt that counts its calls and then does `then`. */
  const attempt =
    <T>(then: () => Promise<T>) =>
    () => {
      calls++;
      return then();
    };
  return {
    policy,
    registry,
    attempt,
    calls: () => calls,
    breakerState: () => metricValue(registry, 'user_service_circuit_state'),
  };
}

const failing = (outcome: 'server_error' | 'connection_error') => () =>
  Promise.reject(new RetryableFailure(outcome));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('createResiliencePolicy', () => {
  it('when the attempt succeeds, then its value comes back after one call', async () => {
    const t = setup();
    expect(await t.policy.execute(t.attempt(async () => 'ok'))).toBe('ok');
    expect(t.calls()).toBe(1);
  });

  it('when every attempt fails retryably, then it tries 1 + retries times and names the last outcome', async () => {
    const t = setup({ breakerThreshold: 10 });
    const err = await rejection(t.policy.execute(t.attempt(failing('connection_error'))));
    expect(t.calls()).toBe(3);
    expect(t.policy.reasonFor(err)).toBe('connection_error');
  });

  it('when the attempt throws anything else, then it is not retried and passes through unnamed', async () => {
    const t = setup();
    const thrown = new Error('not user-service’s fault');
    const err = await rejection(t.policy.execute(t.attempt(() => Promise.reject(thrown))));
    expect(err).toBe(thrown);
    expect(t.calls()).toBe(1);
    expect(t.policy.reasonFor(err)).toBeUndefined();
  });

  it('when an attempt outlives the attempt timeout, then it is retried and the call ends as timeout', async () => {
    const t = setup({ attemptTimeoutMs: 10, breakerThreshold: 10 });
    const never = () => new Promise<never>(() => undefined);
    const err = await rejection(t.policy.execute(t.attempt(never)));
    expect(t.calls()).toBe(3);
    expect(t.policy.reasonFor(err)).toBe('timeout');
  });

  it('when non-retryable errors keep coming, then the breaker stays closed', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++)
      await rejection(t.policy.execute(t.attempt(() => Promise.reject(new Error('x')))));
    expect(await t.breakerState()).toBe(0);
  });

  it('when threshold attempts fail in a row, then the breaker opens and the log names their cause', async () => {
    const captured = captureLogger('warn');
    const t = setup({}, captured.logger);
    await rejection(t.policy.execute(t.attempt(failing('server_error'))));
    expect(await t.breakerState()).toBe(1);
    const opened = captured.lines().find((l) => String(l.msg).includes('circuit breaker opened'));
    expect(opened).toMatchObject({ cause: 'server_error', consecutive_failures: 3 });
  });

  it('when the breaker is open, then calls are refused without an attempt, named circuit_open and counted', async () => {
    const t = setup();
    await rejection(t.policy.execute(t.attempt(failing('server_error'))));
    const before = t.calls();
    const err = await rejection(t.policy.execute(t.attempt(async () => 'ok')));
    expect(t.calls()).toBe(before);
    expect(t.policy.reasonFor(err)).toBe('circuit_open');
    expect(await metricValue(t.registry, 'user_service_requests_total', { outcome: 'circuit_open' })).toBe(1);
    const durations = await t.registry.getSingleMetricAsString('user_service_request_duration_seconds');
    expect(durations).not.toContain('circuit_open');
  });

  it('when the breaker is open, then Retry-After is the rest of the half-open delay, at least 1 s', async () => {
    const t = setup({ halfOpenAfterMs: 5_000 });
    expect(t.policy.retryAfterSeconds()).toBe(1);
    await rejection(t.policy.execute(t.attempt(failing('server_error'))));
    expect(t.policy.retryAfterSeconds()).toBeGreaterThanOrEqual(4);
    expect(t.policy.retryAfterSeconds()).toBeLessThanOrEqual(5);
  });
});
