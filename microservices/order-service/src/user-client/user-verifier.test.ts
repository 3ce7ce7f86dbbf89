import { AppError, createMetricsRegistry, silentLogger } from '@microservices/service-kit';
import { captureLogger } from '@microservices/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { FakeUserClient, metricValue } from '../test-app.js';
import { createUserVerifier, type KnownUsersCacheOptions } from './user-verifier.js';

/** A verifier over a fake user-service that knows `u1`, with the cache's clock in the test's hands. */
function setup(cache: Partial<KnownUsersCacheOptions> = {}) {
  let nowMs = 1_000;
  const users = new FakeUserClient(['u1']);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const verifier = createUserVerifier(
    users,
    { enabled: true, ttlMs: 10_000, maxEntries: 100, now: () => nowMs, ...cache },
    registry,
  );
  return {
    users,
    registry,
    verify: (userId = 'u1', logger = silentLogger()) => verifier.ensureUserExists(userId, 'req-1', logger),
    advance: (ms: number) => {
      nowMs += ms;
    },
    fallbacks: () => metricValue(registry, 'user_validation_cache_fallbacks_total'),
  };
}

async function appErrorStatus(promise: Promise<unknown>): Promise<number> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err.status;
}

describe('createUserVerifier', () => {
  it('when user-service knows the user, then it resolves and passes the request id on', async () => {
    const t = setup();
    await t.verify();
    expect(t.users.calls).toEqual([{ userId: 'u1', requestId: 'req-1' }]);
  });

  it('when user-service does not know the user, then it throws a 404 AppError "User not found"', async () => {
    const t = setup();
    const err = await t.verify('ghost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 404, detail: 'User not found' });
  });

  it('when user-service is down and the user was never seen, then it throws a 503 with Retry-After', async () => {
    const t = setup();
    t.users.goDown('timeout', 3);
    const err = await t.verify().catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 503,
      type: 'user-service-unavailable',
      headers: { 'Retry-After': '3' },
    });
  });

  it('when user-service is down for a recently seen user, then it resolves and logs one warning without PII', async () => {
    const t = setup();
    await t.verify();
    t.users.goDown('circuit_open');
    const { logger, lines } = captureLogger('info');
    await t.verify('u1', logger);
    expect(await t.fallbacks()).toBe(1);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        user_id: 'u1',
        reason: 'circuit_open',
        msg: 'user-service unavailable: accepted a recently validated user',
      }),
    ]);
  });

  it('when the injected clock moves past the TTL with no real time passing, then the user is no longer trusted', async () => {
    const t = setup();
    await t.verify();
    t.users.goDown();
    await t.verify();
    t.advance(10_001);
    expect(await appErrorStatus(t.verify())).toBe(503);
    expect(await t.fallbacks()).toBe(1);
  });

  it('when the user is confirmed again, then the TTL starts over', async () => {
    const t = setup();
    await t.verify();
    t.advance(8_000);
    await t.verify();
    t.advance(8_000);
    t.users.goDown();
    await expect(t.verify()).resolves.toBeUndefined();
  });

  it('when a fallback is used, then it does not extend the TTL', async () => {
    const t = setup();
    await t.verify();
    t.users.goDown();
    t.advance(8_000);
    await t.verify();
    t.advance(2_001);
    expect(await appErrorStatus(t.verify())).toBe(503);
  });

  it('when the client throws something other than unavailable, then that error propagates untouched', async () => {
    const t = setup();
    const boom = new TypeError('bug');
    t.users.getUser = async () => {
      throw boom;
    };
    await expect(t.verify()).rejects.toBe(boom);
    expect(await t.fallbacks()).toBe(0);
  });

  it('when the cache is disabled, then a seen user gets a 503 while user-service is down', async () => {
    const t = setup({ enabled: false });
    await t.verify();
    t.users.goDown();
    expect(await appErrorStatus(t.verify())).toBe(503);
  });
});
