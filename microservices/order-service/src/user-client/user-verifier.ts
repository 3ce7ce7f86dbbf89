import { notFound, serviceUnavailable, validationFailed } from '@microservices/service-kit';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { InvalidUserIdError, type UserClient, UserServiceUnavailableError } from './user-client.js';

export interface KnownUsersCacheOptions {
  enabled: boolean;
  ttlMs: number;
  maxEntries: number;
  /** Time source for expiry; injected so tests can move time. */
  now?: () => number;
}

export interface UserVerifier {
  /** Resolves when the user exists; throws the 404 or 503 AppError the API documents. */
  ensureUserExists(userId: string, requestId: string, logger: Logger): Promise<void>;
}

/**
 * Asks user-service every time; remembers users it confirmed for a short while so that, when
 * user-service cannot answer, orders for users seen recently still go through (counted and logged).
 * A 404 evicts the user at once, so a deleted user is never served from memory.
 */
export function createUserVerifier(
  client: UserClient,
  cacheOptions: KnownUsersCacheOptions,
  registry: Registry,
): UserVerifier {
  const known = new LRUCache<string, true>({
    max: cacheOptions.maxEntries,
    ttl: cacheOptions.ttlMs,
    // lru-cache otherwise reuses its last `now()` until a 1 ms real timer fires, so an injected clock
    // moved past the TTL would still see the user as fresh: read the injected clock on every check.
    ...(cacheOptions.now ? { perf: { now: cacheOptions.now }, ttlResolution: 0 } : {}),
  });
  const fallbacks = new Counter({
    name: 'user_validation_cache_fallbacks_total',
    help: 'Orders accepted for a recently validated user while user-service was unavailable.',
    registers: [registry],
  });

  return {
    async ensureUserExists(userId, requestId, logger) {
      try {
        const user = await client.getUser(userId, { requestId });
        if (!user) {
          known.delete(userId);
          throw notFound('User not found');
        }
        if (cacheOptions.enabled) known.set(userId, true);
      } catch (err) {
        if (err instanceof InvalidUserIdError) {
          throw validationFailed(
            [{ path: 'body.user_id', message: err.message }],
            `Invalid request: ${err.message}`,
          );
        }
        if (!(err instanceof UserServiceUnavailableError)) throw err;
        if (cacheOptions.enabled && known.has(userId)) {
          fallbacks.inc();
          logger.warn(
            { user_id: userId, reason: err.reason },
            'user-service unavailable: accepted a recently validated user',
          );
          return;
        }
        throw serviceUnavailable(
          'user-service is unavailable, so the user could not be verified. Retry later.',
          err.retryAfterSeconds,
          'user-service-unavailable',
        );
      }
    },
  };
}
