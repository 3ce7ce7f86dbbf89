import { LATENCY_BUCKETS_SECONDS } from '@microservices/service-kit';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Outcome of one attempt (or of a call refused by the open breaker). */
export type AttemptOutcome =
  | 'found'
  | 'not_found'
  | 'server_error'
  | 'timeout'
  | 'connection_error'
  | 'bad_response'
  /** The request could not be built or sent for a reason that is not user-service's (never retried). */
  | 'request_error'
  | 'circuit_open';

export interface UserClientMetrics {
  requests: Counter<'outcome'>;
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
      help: 'Duration of each attempt to call user-service.',
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
