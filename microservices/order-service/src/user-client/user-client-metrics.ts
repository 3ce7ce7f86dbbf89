import { LATENCY_BUCKETS_SECONDS } from '@microservices/service-kit';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Outcome of one attempt: a request that was sent, or could not be (a refused call is `circuit_open`, see recordRefusal). */
export type AttemptOutcome =
  | 'found'
  | 'not_found'
  | 'server_error'
  | 'timeout'
  | 'connection_error'
  | 'bad_response'
  /** No token of order-service's own could be had for the call (nothing was sent). */
  | 'identity_unavailable'
  /** user-service answered 401/403 to order-service's token. */
  | 'credentials_refused'
  /** The request could not be built or sent for a reason that is not user-service's (never retried). */
  | 'request_error';

export interface UserClientMetrics {
  requests: Counter<'outcome'>;
  /** Attempts only: a refusal by the open breaker sends nothing, so it has no duration to observe. */
  duration: Histogram<'outcome'>;
  /** 0 closed, 1 open, 2 half-open, 3 isolated. */
  breakerState: Gauge;
}

export function createUserClientMetrics(registry: Registry): UserClientMetrics {
  return {
    requests: new Counter({
      name: 'user_service_requests_total',
      help: 'Calls to user-service by outcome; each retry attempt counts once, breaker refusals as circuit_open.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'user_service_request_duration_seconds',
      help: 'Duration of each attempt to call user-service (calls refused by the open breaker are not attempts).',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'user_service_circuit_state',
      help: 'Circuit breaker towards user-service: 0 closed, 1 open, 2 half-open, 3 isolated.',
      registers: [registry],
    }),
  };
}

/** One attempt: counted, and its duration observed. */
export function recordAttempt(metrics: UserClientMetrics, outcome: AttemptOutcome, seconds: number): void {
  metrics.requests.inc({ outcome });
  metrics.duration.observe({ outcome }, seconds);
}

/**
 * A call the open breaker refused: counted as `circuit_open`, never observed as a latency. Nothing was
 * sent, and a stream of zero-length "durations" would drag every latency quantile towards 0 in an outage.
 */
export function recordRefusal(metrics: UserClientMetrics): void {
  metrics.requests.inc({ outcome: 'circuit_open' });
}
