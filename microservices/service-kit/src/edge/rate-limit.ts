import type { Context, MiddlewareHandler } from 'hono';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError } from '../problems/app-error.js';
import type { AppEnv } from './app-env.js';
import { type Principal, UNAUTHENTICATED_FULL_ACCESS } from './auth/principal.js';
import { peerAddress, quotaKey, type TrustedProxies } from './client-address.js';

/**
 * A verified caller's bucket: its subject as its issuer names it (two issuers may both have a `victim`).
 * None when authentication is off: the address is the client then.
 */
const subjectKey = (principal: Principal | undefined) =>
  principal === undefined || principal === UNAUTHENTICATED_FULL_ACCESS
    ? undefined
    : `${principal.issuer} ${principal.subject}`;

/**
 * Authentication's side of the rate limit: a refused credential (no token, a token refused) spends a token
 * of the client's address, and an address with none left is refused (429) before its next token is
 * checked, so a flood of forged tokens costs a signature check per token of its quota, not per request.
 */
export interface RefusalLimit {
  /** Throws the 429 when the request's address has no token left. */
  ensureRoom(c: Context<AppEnv>): void;
  /** Spends one of the address's tokens for a refused credential. */
  spend(c: Context<AppEnv>): void;
}

export interface RateLimiter {
  /** Spends a token of the caller (its verified subject, else its address) per request, or answers 429. */
  middleware: MiddlewareHandler<AppEnv>;
  refusals: RefusalLimit;
}

export interface RateLimitSettings {
  /** Tokens a client earns per second: its sustained request rate. */
  ratePerSecond: number;
  /** The bucket's size: how many requests a quiet client may send at once. */
  burst: number;
  /** Clients remembered at once; the least recently seen are forgotten first. */
  maxClients: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client on the API surfaces: each request takes a token, tokens come back at
 * `ratePerSecond` up to `burst`, and a request finding none is a 429 problem with `Retry-After`. Every
 * answer carries the IETF `RateLimit-Policy` and `RateLimit` headers so well-behaved clients can pace
 * themselves. The client is the authenticated subject when there is one, else the address (see
 * TrustedProxies). Buckets live in a bounded LRU, so a flood of new addresses costs memory it cannot grow.
 */
export function createRateLimiter(options: {
  settings: RateLimitSettings;
  proxies: TrustedProxies;
  registry: Registry;
  now?: () => number;
}): RateLimiter {
  const { settings, proxies } = options;
  const now = options.now ?? (() => performance.now());
  const buckets = new LRUCache<string, Bucket>({ max: settings.maxClients });
  const limited = new Counter({
    name: 'http_requests_rate_limited_total',
    help: 'Requests refused with 429 by the per-client rate limit.',
    registers: [options.registry],
  });
  new Gauge({
    name: 'rate_limit_clients',
    help: 'Clients whose token bucket is remembered (at most RATE_LIMIT_MAX_CLIENTS).',
    registers: [options.registry],
    collect() {
      this.set(buckets.size);
    },
  });
  const windowSeconds = Math.max(1, Math.ceil(settings.burst / settings.ratePerSecond));
  const policy = `"default";q=${settings.burst};w=${windowSeconds}`;

  const refill = (key: string, at: number): Bucket => {
    const bucket = buckets.get(key) ?? { tokens: settings.burst, at };
    bucket.tokens = Math.min(
      settings.burst,
      bucket.tokens + ((at - bucket.at) / 1000) * settings.ratePerSecond,
    );
    bucket.at = at;
    buckets.set(key, bucket);
    return bucket;
  };
  const tooMany = (bucket: Bucket) => {
    limited.inc();
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / settings.ratePerSecond));
    return new AppError({
      type: 'rate-limited',
      detail: `More than ${settings.burst} requests at once or ${settings.ratePerSecond} per second from this client; retry after ${retryAfter} s.`,
      headers: {
        'Retry-After': String(retryAfter),
        'RateLimit-Policy': policy,
        RateLimit: `"default";r=0;t=${retryAfter}`,
      },
    });
  };
  const addressOf = (c: Context<AppEnv>) =>
    quotaKey(proxies.clientOf(peerAddress(c), c.req.header('x-forwarded-for')));

  return {
    middleware: async (c, next) => {
      const bucket = refill(subjectKey(c.get('principal')) ?? addressOf(c), now());
      if (bucket.tokens < 1) throw tooMany(bucket);
      bucket.tokens -= 1;
      const refillSeconds = Math.ceil((settings.burst - bucket.tokens) / settings.ratePerSecond);
      c.header('RateLimit-Policy', policy);
      c.header('RateLimit', `"default";r=${Math.floor(bucket.tokens)};t=${refillSeconds}`);
      await next();
    },
    refusals: {
      ensureRoom(c) {
        const bucket = refill(addressOf(c), now());
        if (bucket.tokens < 1) throw tooMany(bucket);
      },
      spend(c) {
        refill(addressOf(c), now()).tokens -= 1;
      },
    },
  };
}
