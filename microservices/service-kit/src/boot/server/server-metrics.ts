import { Counter, Gauge, type Registry } from 'prom-client';

/** What the HTTP server counts about connections and the requests it answers or cuts before the app. */
export interface ServerMetrics {
  connectionsOpen: Gauge;
  connectionsDropped: Counter;
  connectionsCut: Counter<'reason'>;
  refusals: Counter<'reason' | 'status_code'>;
  shed: Counter;
  inFlight: Gauge;
  waiting: Gauge;
  unsentBytes: Gauge;
  requestBodyBytes: Gauge;
  budgetWaits: Counter;
}

export function createServerMetrics(registry: Registry): ServerMetrics {
  const registers = [registry];
  return {
    connectionsOpen: new Gauge({
      name: 'http_connections_open',
      help: 'Open client connections.',
      registers,
    }),
    connectionsDropped: new Counter({
      name: 'http_connections_dropped_total',
      help: 'Connections closed on arrival because MAX_CONNECTIONS were open.',
      registers,
    }),
    connectionsCut: new Counter({
      name: 'http_connections_cut_total',
      help: 'Connections the server closed: slow_body, body_stalled, send_timeout, pipeline_overflow, waiting_overflow, evicted_at_cap, evicted_stalled_at_cap.',
      labelNames: ['reason'] as const,
      registers,
    }),
    refusals: new Counter({
      name: 'http_server_refusals_total',
      help: 'Requests answered by the server itself before the app (malformed or strict-HTTP refusals, timeouts).',
      labelNames: ['reason', 'status_code'] as const,
      registers,
    }),
    shed: new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests answered 503 because MAX_INFLIGHT_REQUESTS were in flight.',
      registers,
    }),
    inFlight: new Gauge({
      name: 'http_server_requests_in_flight',
      help: 'Requests handed to the app and not yet answered, as MAX_INFLIGHT_REQUESTS counts them.',
      registers,
    }),
    waiting: new Gauge({
      name: 'http_server_requests_waiting',
      help: 'Parsed requests waiting their turn (pipelined, or behind a full send buffer), as MAX_WAITING_REQUESTS counts them.',
      registers,
    }),
    unsentBytes: new Gauge({
      name: 'http_unsent_response_bytes',
      help: 'Answer bytes written by the app and not yet sent to clients, as MAX_UNSENT_RESPONSE_BYTES counts them.',
      registers,
    }),
    requestBodyBytes: new Gauge({
      name: 'http_request_body_bytes_held',
      help: 'Request body bytes of requests in the app, as MAX_REQUEST_BODY_BYTES_HELD counts them.',
      registers,
    }),
    budgetWaits: new Counter({
      name: 'http_unsent_budget_waits_total',
      help: 'Connections whose next request waited because MAX_UNSENT_RESPONSE_BYTES were held unsent.',
      registers,
    }),
  };
}
