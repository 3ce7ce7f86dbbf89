import { percentileOf } from '@microservices/service-kit/testing';
import { expect } from 'vitest';
import { reportFigures } from '../../resilience/support/resilience-report.js';
import { freePort, type RunningService, type ServiceName, startService } from '../../support/processes.js';
import { chartRuntime } from './chart-values.js';
import { type LegitRequest, type LoopResult, legitLoop, probeLoop } from './http-loops.js';
import { memoryOf, watchRss } from './proc-memory.js';

const chart = chartRuntime();

/** The liveness probe's timeout as the chart ships it: the bound on `/health/live`'s p99 under attack. */
export const PROBE_TIMEOUT_MS = chart.livenessTimeoutMs;

/** The chart's memory limit (MiB): the RSS past which the kubelet kills the pod. */
export const MEMORY_LIMIT_MB = chart.memoryLimitMb;

/**
 * Starts a built service as the chart runs it (its NODE_OPTIONS heap caps, a probe port of its own when
 * the chart gives one) on free loopback ports; `env` adds to (or overrides) the defaults, e.g. a low
 * MAX_CONNECTIONS.
 */
export async function startCostService(
  name: ServiceName,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const probes = chart.probesOnOwnPort ? { PROBE_PORT: String(await freePort()) } : {};
  return startService(name, { NODE_OPTIONS: chart.nodeOptions, LOG_LEVEL: 'info', ...probes, ...env });
}

/** One row of the table the closing note quotes. */
export interface CostRow {
  attack: string;
  /** What was sent, and how fast, in words: "400 pipelined GETs × 5 connections in one write each". */
  rate: string;
  legitSuccessPct: number;
  probeP99Ms: number;
  rssPeakMb: number;
  survived: boolean;
  /** What the attack got back: "cut (pipeline_overflow) ×5", "408 ×50". */
  outcome: string;
}

const rows: CostRow[] = [];

export interface CostCase {
  service: RunningService;
  attack: string;
  rate: string;
  /** The legitimate request sent beside the attack, by index. */
  legit: (i: number) => LegitRequest;
  /** Runs the attack (bounded in count and time) and describes what it got. */
  run: () => Promise<string>;
  /** Keep probing and serving legit traffic at least this long, attack or not (default 1.5 s). */
  minDurationMs?: number;
}

export interface CostResult {
  row: CostRow;
  probe: LoopResult;
  legit: LoopResult;
}

/**
 * Runs an attack while a legitimate-traffic loop and a liveness-probe loop run beside it, and polls the
 * service's RSS. Records (and returns) the row; `expectWithstood` asserts on it.
 */
export async function runCostCase(c: CostCase): Promise<CostResult> {
  const pid = c.service.process.pid as number;
  const rss = watchRss(pid);
  const stop = new AbortController();
  const common = { port: c.service.port, timeoutMs: PROBE_TIMEOUT_MS, signal: stop.signal };
  // Where the kubelet probes: the probe port when the chart gives one.
  const probe = probeLoop({ ...common, port: c.service.probePort ?? c.service.port, intervalMs: 50 });
  const legit = legitLoop({ ...common, intervalMs: 10, next: c.legit });
  const started = performance.now();
  let outcome: string;
  try {
    outcome = await c.run();
    const rest = (c.minDurationMs ?? 1_500) - (performance.now() - started);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  } finally {
    stop.abort();
  }
  const [probeResult, legitResult] = await Promise.all([probe, legit]);
  const attempts = legitResult.ok + legitResult.failed;
  const row: CostRow = {
    attack: c.attack,
    rate: c.rate,
    legitSuccessPct: attempts === 0 ? 0 : (100 * legitResult.ok) / attempts,
    probeP99Ms: percentileOf(probeResult.latenciesMs, 99),
    rssPeakMb: rss.stop(),
    survived:
      c.service.process.exitCode === null &&
      c.service.process.signalCode === null &&
      memoryOf(pid) !== undefined,
    outcome,
  };
  rows.push(row);
  reportFigures(`13 cost: ${row.attack}`, {
    rate: row.rate,
    legit_success_pct: row.legitSuccessPct,
    legit_requests: attempts,
    probe_p99_ms: row.probeP99Ms,
    probes: probeResult.latenciesMs.length,
    rss_peak_mb: row.rssPeakMb,
    survived: row.survived,
    outcome: row.outcome,
  });
  return { row, probe: probeResult, legit: legitResult };
}

/**
 * What every cost case asserts: the process is still the one we started, `/health/live` stayed under the
 * probe timeout at p99, and legitimate traffic kept succeeding at `minLegitSuccessPct` or better.
 */
export function expectWithstood(result: CostResult, minLegitSuccessPct: number): void {
  const { row } = result;
  const context = `${row.attack}: ${JSON.stringify({ ...row, probeFailures: result.probe.failures, legitFailures: result.legit.failures })}`;
  expect(row.survived, context).toBe(true);
  expect(result.probe.latenciesMs.length, context).toBeGreaterThan(5);
  expect(row.probeP99Ms, context).toBeLessThan(PROBE_TIMEOUT_MS);
  expect(result.legit.ok + result.legit.failed, context).toBeGreaterThan(5);
  expect(row.legitSuccessPct, context).toBeGreaterThanOrEqual(minLegitSuccessPct);
}

const pad = (text: string, width: number) => text.padEnd(width);

/** The rows so far as a Markdown table (printed at the end of each cost file). */
export function costTable(): string {
  const header = ['attack', 'rate', 'legit success', 'probe p99', 'RSS peak', 'survived', 'attack got'];
  const body = rows.map((r) => [
    r.attack,
    r.rate,
    `${r.legitSuccessPct.toFixed(1)} %`,
    `${r.probeP99Ms.toFixed(1)} ms`,
    `${r.rssPeakMb.toFixed(0)} MiB`,
    r.survived ? 'yes' : 'NO',
    r.outcome,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => pad(c, widths[i] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Prints the table of this file's rows; call in afterAll. */
export function printCostTable(): void {
  if (rows.length > 0) process.stdout.write(`\n[cost] rows of this file:\n${costTable()}\n`);
}
