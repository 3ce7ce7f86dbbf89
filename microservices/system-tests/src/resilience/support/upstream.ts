import {
  type CheckedClient,
  type CheckedResponse,
  percentileOf,
  pollUntil,
} from '@microservices/service-kit/testing';
import { exampleOrder, type Problem } from '../../support/fixtures.js';
import { jsonLogs, type LogRecord } from '../../support/logs.js';
import type { RunningService } from '../../support/processes.js';
import { metricValue, parseMetrics, type Sample } from '../../support/prometheus.js';

/** order-service's resilience settings at their defaults, spelled out so the bounds below read from them. */
export const DEFAULT_RESILIENCE = {
  USER_SERVICE_TIMEOUT_MS: '1000',
  USER_SERVICE_DEADLINE_MS: '2500',
  USER_SERVICE_RETRIES: '2',
  USER_SERVICE_BREAKER_THRESHOLD: '5',
  USER_SERVICE_BREAKER_HALF_OPEN_MS: '5000',
  LOG_LEVEL: 'info',
} as const;

export interface PlacedOrder {
  res: CheckedResponse<Problem | { id: string }>;
  requestId: string;
  /** Round trip seen by this test process. */
  clientMs: number;
}

/**
 * Places `count` orders (`concurrency` at a time) for the user ids `userIdOf(i)` and times each; every
 * request carries its own X-Request-Id so its access-log line can be found.
 */
export async function placeOrders(
  api: CheckedClient,
  count: number,
  concurrency: number,
  userIdOf: (i: number) => string,
  tag: string,
): Promise<PlacedOrder[]> {
  const placed: PlacedOrder[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const requestId = `${tag}-${i}`;
      const started = performance.now();
      const res = await api.post<Problem | { id: string }>('/api/v1/orders', exampleOrder(userIdOf(i)), {
        headers: { 'X-Request-Id': requestId },
      });
      placed.push({ res, requestId, clientMs: performance.now() - started });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return placed;
}

/**
 * The service's own timing of each request (access log `duration_ms`), by request id; waits (bounded)
 * for every line, since logs arrive asynchronously through the pipe.
 */
export function servedMs(service: RunningService, requestIds: readonly string[]): Promise<number[]> {
  const wanted = new Set(requestIds);
  return pollUntil(
    `${service.name} to log ${requestIds.length} requests`,
    () => {
      const lines = jsonLogs(service.logs()).filter(
        (l: LogRecord) => l.msg === 'request completed' && wanted.has(String(l.req_id)),
      );
      return lines.length === wanted.size ? lines.map((l) => Number(l.duration_ms)) : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 20 },
  );
}

export const p99 = (values: readonly number[]) => percentileOf(values, 99);

export async function scrape(api: CheckedClient): Promise<Sample[]> {
  return parseMetrics((await api.get<string>('/metrics')).body);
}

/** Attempts order-service made to user-service (every outcome but refusals by the open breaker). */
export const upstreamAttempts = (metrics: readonly Sample[]) =>
  metricValue(metrics, 'user_service_requests_total') -
  metricValue(metrics, 'user_service_requests_total', { outcome: 'circuit_open' });

/** order-service answers with a 5xx other than 503: the suite's "never" number. */
export const unexpected5xx = (metrics: readonly Sample[]) =>
  metrics
    .filter((s) => s.name === 'http_requests_total' && /^5\d\d$/.test(s.labels.status_code ?? ''))
    .filter((s) => s.labels.status_code !== '503')
    .reduce((sum, s) => sum + s.value, 0);

export const statusCounts = (placed: readonly PlacedOrder[]) => {
  const counts: Record<string, number> = {};
  for (const p of placed) counts[p.res.status] = (counts[p.res.status] ?? 0) + 1;
  return counts;
};
