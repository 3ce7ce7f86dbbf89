import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  type FailureReason,
  handleWhen,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { UnavailableReason } from './user-client.js';
import { recordRefusal, type UserClientMetrics } from './user-client-metrics.js';
import type { RetryableOutcome } from './user-service-answers.js';

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

/** Thrown by an attempt whose failure is worth retrying and counting against the breaker. */
export class RetryableFailure extends Error {
  constructor(readonly outcome: RetryableOutcome) {
    super(outcome);
  }
}

/** An attempt that would start after its call already gave up; neither sent, counted nor retried. */
class AbandonedAttempt extends Error {}

export interface ResiliencePolicy {
  /**
   * Runs `attempt` under deadline ⟶ retry ⟶ breaker ⟶ attempt timeout. Only a `RetryableFailure` (or an
   * attempt timeout) is retried and counted by the breaker; any other error ends the call as it is.
   */
  execute<T>(attempt: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * Why the policy gave up, for an error `execute` rejected with: `circuit_open`, `timeout`, or the last
   * retryable failure's outcome. Undefined for an error the attempt threw that the policy let through.
   */
  reasonFor(err: unknown): UnavailableReason | undefined;
  /** When asking again is worth it: the seconds until the open breaker half-opens, at least 1. */
  retryAfterSeconds(): number;
}

export interface ResiliencePolicyDeps {
  options: ResilienceOptions;
  metrics: UserClientMetrics;
  logger: Logger;
}

const BREAKER_STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 3,
};

const isTransient = (err: unknown) => err instanceof RetryableFailure || err instanceof TaskCancelledError;

/** The failure that opened the breaker, named for the log: an attempt timeout is cockatiel's own error. */
const causeOf = (reason: FailureReason<unknown> | { isolated: true }): RetryableOutcome =>
  'error' in reason && reason.error instanceof RetryableFailure ? reason.error.outcome : 'timeout';

/** The cockatiel policy towards user-service, its breaker reported as a gauge and in the log. */
export function createResiliencePolicy({ options, metrics, logger }: ResiliencePolicyDeps): ResiliencePolicy {
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  let openedAt = 0;
  metrics.breakerState.set(0);
  breaker.onBreak((reason) => {
    openedAt = performance.now();
    const cause = causeOf(reason);
    logger.warn(
      { cause, consecutive_failures: options.breakerThreshold, retry_after_ms: options.halfOpenAfterMs },
      `user-service circuit breaker opened after ${options.breakerThreshold} consecutive ${cause} failures`,
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
    timeout(options.deadlineMs, timeoutOptions),
    retry(handleWhen(isTransient), {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({ initialDelay: options.retryBaseDelayMs, maxDelay: 1_000 }),
    }),
    breaker,
    timeout(options.attemptTimeoutMs, timeoutOptions),
  );

  return {
    async execute(attempt) {
      try {
        return await policy.execute(({ signal }) => {
          // cockatiel's retry sleeps through the deadline's abort and then starts one more attempt, after
          // the caller already has its answer. Thrown synchronously, so it is not sent, recorded, retried,
          // or counted by the breaker (which only counts transient failures).
          if (signal.aborted) throw new AbandonedAttempt('the call gave up before this attempt');
          return attempt(signal);
        });
      } catch (err) {
        // Counted once per refused call; nothing was sent, so there is no latency to record.
        if (err instanceof BrokenCircuitError) recordRefusal(metrics);
        throw err;
      }
    },

    reasonFor(err) {
      if (err instanceof BrokenCircuitError) return 'circuit_open';
      if (err instanceof TaskCancelledError || err instanceof AbandonedAttempt) return 'timeout';
      if (err instanceof RetryableFailure) return err.outcome;
      return undefined;
    },

    retryAfterSeconds() {
      if (breaker.state !== CircuitState.Open) return 1;
      const remainingMs = options.halfOpenAfterMs - (performance.now() - openedAt);
      return Math.max(1, Math.ceil(remainingMs / 1000));
    },
  };
}
