import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A fresh registry per app instance, so tests never share counters and two apps in one process
 * never collide. Default process metrics are opt-in because each collection installs an event-loop
 * monitor; `main` turns them on, most unit tests do not need them.
 */
export function createMetricsRegistry(options: { defaultMetrics: boolean; labels?: Record<string, string> }) {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Histogram buckets in seconds, from sub-millisecond in-process work to multi-second upstream calls. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
