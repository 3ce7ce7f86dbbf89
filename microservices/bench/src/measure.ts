import type { BenchConfig } from './config.js';
import type { FixedRateResult } from './load/fixed-rate.js';
import { runFixedRate } from './load/fixed-rate.js';
import type { LoadGenerator, LoadResult, LoadTarget } from './load/types.js';
import { cpuPercent, loadAverage, sampleProcess } from './proc-stats.js';
import type { ManagedProcess } from './processes.js';

export type StoreKind = 'memory' | 'postgres';

export type ScenarioId =
  | 'ceiling'
  | 'health-live'
  | 'get-user'
  | 'list-users'
  | 'post-user'
  | 'get-order'
  | 'post-order-cache-on'
  | 'post-order-cache-off'
  | 'get-user-auth'
  | 'post-order-auth';

export interface Scenario {
  id: ScenarioId;
  label: string;
  target: LoadTarget;
  /** The process whose RSS and CPU the row reports. */
  proc: ManagedProcess;
  /** user-service behind order-service, whose CPU is reported beside it. */
  upstream?: ManagedProcess;
}

export interface ThroughputRow extends LoadResult {
  store: StoreKind;
  id: ScenarioId;
  label: string;
  service: string;
  rssBeforeMB: number;
  rssAfterMB: number;
  /** CPU of the measured process during the measured window, % of one core. */
  cpuPercent: number;
  upstreamCpuPercent: number | null;
  /** 1-minute load average when the measured window ended. */
  load1: number;
  /** rps ÷ the ceiling's rps in the same pass (filled in once the pass has its ceiling). */
  ratio: number;
}

export interface FixedRateRow extends FixedRateResult {
  store: StoreKind;
  id: ScenarioId;
  label: string;
}

const MB = 1024 * 1024;
export const rssMB = (proc: ManagedProcess) => (sampleProcess(proc.pid)?.rssBytes ?? Number.NaN) / MB;

/** Warm-up (discarded), then one measured closed-loop run with RSS and CPU of the process(es) around it. */
export async function measureThroughput(
  generator: LoadGenerator,
  config: BenchConfig,
  store: StoreKind,
  scenario: Scenario,
  prefix: () => string,
): Promise<ThroughputRow> {
  const options = { connections: config.connections, threads: config.threads };
  const target = (): LoadTarget =>
    scenario.target.uniqueUserPrefix === undefined
      ? scenario.target
      : { ...scenario.target, uniqueUserPrefix: prefix() };
  const rssBefore = rssMB(scenario.proc);
  if (config.warmupS > 0) await generator.run(target(), { ...options, durationS: config.warmupS });
  const before = sampleProcess(scenario.proc.pid);
  const upstreamBefore = scenario.upstream ? sampleProcess(scenario.upstream.pid) : null;
  const result = await generator.run(target(), { ...options, durationS: config.durationS });
  const after = sampleProcess(scenario.proc.pid);
  const upstreamAfter = scenario.upstream ? sampleProcess(scenario.upstream.pid) : null;
  return {
    store,
    id: scenario.id,
    label: scenario.label,
    service: scenario.proc.name,
    ...result,
    rssBeforeMB: rssBefore,
    rssAfterMB: (after?.rssBytes ?? Number.NaN) / MB,
    cpuPercent: cpuPercent(before, after),
    upstreamCpuPercent: scenario.upstream ? cpuPercent(upstreamBefore, upstreamAfter) : null,
    load1: loadAverage()[0],
    ratio: Number.NaN,
  };
}

/** p50/p99 at a fixed request rate (open loop). */
export async function measureFixedRate(
  config: BenchConfig,
  store: StoreKind,
  scenario: Scenario,
  prefix: () => string,
): Promise<FixedRateRow> {
  const target =
    scenario.target.uniqueUserPrefix === undefined
      ? scenario.target
      : { ...scenario.target, uniqueUserPrefix: prefix() };
  const result = await runFixedRate(target, {
    rate: config.rate,
    durationS: config.rateDurationS,
    warmupS: 0.5,
  });
  return { store, id: scenario.id, label: scenario.label, ...result };
}
