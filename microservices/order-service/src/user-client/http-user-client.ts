import { isStorableText } from '@microservices/service-kit';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import {
  InvalidUserIdError,
  type UnavailableReason,
  type UserClient,
  type UserRef,
  UserServiceUnavailableError,
} from './user-client.js';
import type { AttemptOutcome, UserClientMetrics } from './user-client-metrics.js';

export interface ResilienceOptions {
  /** Per attempt; an attempt that takes longer is abandoned and counts as a failure. */
  attemptTimeoutMs: number;
  /** For the whole call including retries and backoff: the most a client of order-service waits on us. */
  deadlineMs: number;
  /** Extra attempts after the first, only on connection errors, timeouts and 5xx (never on 404). */
  retries: number;
  /** First backoff delay; later ones grow exponentially with jitter. */
  retryBaseDelayMs: number;
  /** Consecutive failed attempts that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before letting one trial call through. */
  halfOpenAfterMs: number;
}

export interface HttpUserClientDeps {
  baseUrl: string;
  dispatcher: Dispatcher;
  metrics: UserClientMetrics;
  logger: Logger;
  resilience: ResilienceOptions;
}

/** A failure worth retrying and counting against the breaker. */
class TransientFailure extends Error {
  constructor(readonly outcome: AttemptOutcome & UnavailableReason) {
    super(outcome);
  }
}

/** An answer that retrying will not fix (e.g. a 200 that is not the user asked for). */
class PermanentFailure extends Error {}

/** An attempt that would start after its call already gave up; neither sent, counted nor retried. */
class AbandonedAttempt extends Error {}

/**
 * Whether an error thrown while sending is a request that could not be built (an id URL encoding refuses,
 * a header Node or undici rejects) rather than the network's or user-service's doing. Such a request would
 * fail the same way on every retry and says nothing about user-service's health, so it is never retried
 * nor counted by the breaker. Anything else (undici's `UND_ERR_*` transport errors, errno codes, unknown
 * errors) counts, so an unexpected failure still protects the caller.
 */
const isRequestBuildError = (err: unknown): boolean => {
  if (err instanceof TypeError || err instanceof URIError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_INVALID_ARG' || (typeof code === 'string' && code.startsWith('ERR_INVALID'));
};

const BREAKER_STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 3,
};

const isTransient = (err: unknown) => err instanceof TransientFailure || err instanceof TaskCancelledError;

/**
 * The id as one path segment: encodeURIComponent escapes `/`, `?`, `#` and friends, and dots are encoded
 * as well so no segment reads as `.`/`..` to a naive parser. URL parsers still resolve a segment that is
 * exactly `%2E` or `%2E%2E`, which is why such ids never reach the wire (see `isDotSegment`).
 */
export const userPath = (userId: string) =>
  `/api/v1/users/${encodeURIComponent(userId).replaceAll('.', '%2E')}`;

/** `.` and `..` cannot name a user: any URL parser would turn them into a different path. */
const isDotSegment = (userId: string) => userId === '.' || userId === '..';

/**
 * user-service over HTTP with undici and a cockatiel policy:
 * deadline ⟶ retry (exponential backoff + jitter) ⟶ circuit breaker ⟶ per-attempt timeout.
 */
export function createHttpUserClient(deps: HttpUserClientDeps): UserClient {
  const { dispatcher, metrics, logger, resilience } = deps;
  const base = new URL(deps.baseUrl);
  const origin = base.origin;
  // user-service may sit behind a path prefix (e.g. an ingress at /users-api); keep it, minus a trailing slash.
  const prefix = base.pathname.replace(/\/+$/, '');

  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: resilience.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(resilience.breakerThreshold),
  });
  let openedAt = 0;
  // The outcome of the last transient failure, named when the breaker opens so the log says why.
  let lastFailure: AttemptOutcome = 'connection_error';
  metrics.breakerState.set(0);
  breaker.onBreak(() => {
    openedAt = performance.now();
    logger.warn(
      {
        cause: lastFailure,
        consecutive_failures: resilience.breakerThreshold,
        retry_after_ms: resilience.halfOpenAfterMs,
      },
      `user-service circuit breaker opened after ${resilience.breakerThreshold} consecutive ${lastFailure} failures`,
    );
  });
  breaker.onStateChange((state) => {
    metrics.breakerState.set(BREAKER_STATE_VALUE[state]);
    logger.warn({ state: CircuitState[state] }, 'user-service circuit breaker changed state');
  });

  // cockatiel aborts a timeout's signal when the call returns unless told not to, and every abort() builds a
  // DOMException with a stack trace: two per order, about a tenth of order-service's CPU under load. Nothing
  // is listening by then (each attempt has read or dumped its body before it returns), and a timeout that
  // fires still aborts the signal, so the in-flight request is cancelled exactly as before.
  const timeoutOptions = { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false };
  const policy = wrap(
    timeout(resilience.deadlineMs, timeoutOptions),
    retry(handleWhen(isTransient), {
      maxAttempts: resilience.retries,
      backoff: new ExponentialBackoff({ initialDelay: resilience.retryBaseDelayMs, maxDelay: 1_000 }),
    }),
    breaker,
    timeout(resilience.attemptTimeoutMs, timeoutOptions),
  );

  const record = (outcome: AttemptOutcome, started: number) => {
    if (outcome === 'timeout' || outcome === 'connection_error' || outcome === 'server_error') {
      lastFailure = outcome;
    }
    metrics.requests.inc({ outcome });
    metrics.duration.observe({ outcome }, (performance.now() - started) / 1000);
  };

  async function attempt(userId: string, requestId: string, signal: AbortSignal): Promise<UserRef | null> {
    const started = performance.now();
    let outcome: AttemptOutcome = 'connection_error';
    try {
      const res = await dispatcher.request({
        origin,
        path: prefix + userPath(userId),
        method: 'GET',
        headers: { accept: 'application/json', 'x-request-id': requestId },
        signal,
      });
      if (res.statusCode === 200) {
        let body: { id?: unknown } | null;
        try {
          body = (await res.body.json()) as { id?: unknown } | null;
        } catch (err) {
          // A body that is not JSON will not parse on a retry either; a socket error while reading might.
          if (!(err instanceof SyntaxError)) throw err;
          outcome = 'bad_response';
          throw new PermanentFailure('user-service answered 200 with a body that is not JSON');
        }
        if (body?.id !== userId) {
          outcome = 'bad_response';
          throw new PermanentFailure('user-service answered 200 with a different user');
        }
        outcome = 'found';
        return { id: userId };
      }
      await res.body.dump();
      if (res.statusCode === 404) {
        outcome = 'not_found';
        return null;
      }
      if (res.statusCode >= 500 || res.statusCode === 429) {
        outcome = 'server_error';
        throw new TransientFailure('server_error');
      }
      outcome = 'bad_response';
      throw new PermanentFailure(`user-service answered ${res.statusCode}`);
    } catch (err) {
      if (err instanceof TransientFailure || err instanceof PermanentFailure) {
        if (signal.aborted) outcome = 'timeout';
        throw err;
      }
      if (signal.aborted) {
        outcome = 'timeout';
        throw new TransientFailure('timeout');
      }
      if (!isRequestBuildError(err)) throw new TransientFailure('connection_error');
      // Not the upstream's fault: never retried, never counted by the breaker, logged with its cause.
      outcome = 'request_error';
      logger.error({ err, user_id_length: userId.length }, 'could not build the request to user-service');
      throw new PermanentFailure('the request to user-service could not be sent');
    } finally {
      record(outcome, started);
    }
  }

  const retryAfterSeconds = () => {
    if (breaker.state !== CircuitState.Open) return 1;
    const remainingMs = resilience.halfOpenAfterMs - (performance.now() - openedAt);
    return Math.max(1, Math.ceil(remainingMs / 1000));
  };

  return {
    async getUser(userId, { requestId }) {
      // A caller's mistake is refused before any call, so it can never count against the breaker.
      if (!isStorableText(userId) || userId.length === 0) throw new InvalidUserIdError();
      if (isDotSegment(userId)) return null;
      try {
        return await policy.execute(({ signal }) => {
          // cockatiel's retry sleeps through the deadline's abort and then starts one more attempt, after
          // the caller already has its answer. Thrown synchronously, so it is not sent, recorded, retried,
          // or counted by the breaker (which only counts transient failures).
          if (signal.aborted) throw new AbandonedAttempt('the call gave up before this attempt');
          return attempt(userId, requestId, signal);
        });
      } catch (err) {
        let reason: UnavailableReason = 'connection_error';
        if (err instanceof BrokenCircuitError) {
          reason = 'circuit_open';
          record('circuit_open', performance.now());
        } else if (err instanceof TaskCancelledError || err instanceof AbandonedAttempt) reason = 'timeout';
        else if (err instanceof TransientFailure) reason = err.outcome;
        else if (err instanceof PermanentFailure) reason = 'bad_response';
        throw new UserServiceUnavailableError(reason, retryAfterSeconds());
      }
    },

    async checkReady(signal) {
      const res = await dispatcher.request({ origin, path: `${prefix}/health/ready`, method: 'GET', signal });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`user-service readiness answered ${res.statusCode}`);
    },
  };
}
