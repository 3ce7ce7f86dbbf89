import type { StoreKind } from './measure.js';
import type { ServiceName } from './paths.js';
import { type ProcessGroup, waitFor200 } from './processes.js';
import { type RunSettings, spawnService } from './services.js';
import { percentile, round } from './stats.js';

export interface StartToReady {
  service: ServiceName;
  store: StoreKind;
  samplesMs: number[];
  medianMs: number;
  p90Ms: number;
}

/** How often readiness is polled while a service starts: the resolution of the measurement. */
export const READY_POLL_MS = 5;

/**
 * Spawn → first 200 from /health/ready, `starts` times: each a fresh `node dist/main.js`, stopped before
 * the next starts. Not profiled (--cpu-prof would slow start-up).
 */
export async function measureStartToReady(
  group: ProcessGroup,
  settings: RunSettings,
  service: ServiceName,
  store: StoreKind,
  starts: number,
  env: Record<string, string>,
  databaseUrl?: string,
): Promise<StartToReady> {
  const samples: number[] = [];
  for (let i = 1; i <= starts; i++) {
    const proc = await spawnService(
      group,
      { name: service, label: `${service}-${store}-start-${i}`, env, databaseUrl },
      { ...settings, cpuProfDir: undefined },
    );
    try {
      const readyAt = await waitFor200(proc, '/health/ready', { timeoutMs: 30_000, pollMs: READY_POLL_MS });
      samples.push(round(readyAt - proc.spawnedAtMs, 1));
    } finally {
      await proc.stop('SIGTERM', 5_000);
    }
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    service,
    store,
    samplesMs: samples,
    medianMs: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
  };
}
