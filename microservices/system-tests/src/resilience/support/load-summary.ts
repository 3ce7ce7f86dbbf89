import { percentileOf } from '@microservices/service-kit/testing';
import type { LoadRecord } from './load-driver.js';

export interface LoadSummary {
  sent: number;
  /** Requests that got a response, whatever its status. */
  answered: number;
  ok2xx: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Requests without a response, by error code. */
  errors: Record<string, number>;
  /** Latency of answered requests, from hand-off to the connection until the body was read. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export const isSuccess = (record: LoadRecord): boolean =>
  record.status !== undefined && record.status >= 200 && record.status < 300;

const countBy = <T>(items: readonly T[], key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

/** Counts and latency percentiles of a set of load records. */
export function summarise(records: readonly LoadRecord[]): LoadSummary {
  const answered = records.filter((r) => r.status !== undefined);
  const latencies = answered.map((r) => r.endAt - r.sentAt);
  return {
    sent: records.length,
    answered: answered.length,
    ok2xx: answered.filter(isSuccess).length,
    statuses: countBy(answered, (r) => String(r.status)),
    errors: countBy(
      records.filter((r) => r.error !== undefined),
      (r) => r.error ?? '',
    ),
    p50Ms: percentileOf(latencies, 50),
    p99Ms: percentileOf(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
  };
}

/** A few records as one line each, for assertion messages. */
export const describeRecords = (records: readonly LoadRecord[], limit = 10): string =>
  records
    .slice(0, limit)
    .map((r) =>
      `${r.requestId} ${r.method} ${r.path} → ${r.status ?? r.error} ${r.text?.slice(0, 200) ?? ''}`.trim(),
    )
    .join('\n');
