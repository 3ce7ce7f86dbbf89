import { existsSync } from 'node:fs';

/** Which load generator drives the closed-loop (max throughput) runs. */
export type LoadTool = 'wrk' | 'autocannon';

export interface BenchConfig {
  /** Measured seconds per closed-loop scenario. */
  durationS: number;
  /** Unmeasured seconds before each scenario (JIT, pools, caches). */
  warmupS: number;
  /** Open connections of the closed-loop generator (the old pair was measured with 2 threads × 64). */
  connections: number;
  threads: number;
  /** Fixed request rate of the latency runs (open loop), and how long each lasts. */
  rate: number;
  rateDurationS: number;
  /** How long the breaker-open fast-fail run lasts at `rate` (must stay inside the 5 s open window). */
  fastFailS: number;
  /** Spawns per service for start-to-ready. */
  readyStarts: number;
  /** Table size for the "POST user stays flat" measurement. */
  growthUsers: number;
  tool: LoadTool;
  /** Admin URL of an existing PostgreSQL server; otherwise one is started from the machine's binaries. */
  databaseUrl: string | undefined;
  postgres: boolean;
  /** LOG_LEVEL of the services; `info` is what the Helm chart and k8s/ run in production. */
  logLevel: string;
  skipBuild: boolean;
  /** Run the services with `node --cpu-prof` and keep the profiles in results/profiles/. */
  cpuProf: boolean;
  /** Keep the services' stdout (JSON logs) in results/logs/ instead of discarding it. */
  keepLogs: boolean;
  /** The `node` that runs the services and the ceiling (default: the one running the benchmark). */
  node: string;
  /** NODE_OPTIONS for the services and the ceiling, for sizing experiments (images set none). */
  nodeOptions: string | undefined;
}

export const WRK_PATH_CANDIDATES = ['/usr/bin/wrk', '/usr/local/bin/wrk'];

export class BenchConfigError extends Error {}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  // Whole numbers only: wrk takes durations in whole seconds.
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BenchConfigError(`${name} must be a whole number between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new BenchConfigError(`${name} must be true or false (got "${raw}")`);
}

/** wrk is C and cheap on CPU; autocannon runs in this Node process and competes with the services for the cores. */
export function findWrk(): string | null {
  return WRK_PATH_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Reads the BENCH_* variables; throws BenchConfigError naming the first bad one. */
export function readConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const requestedTool = env.BENCH_TOOL?.trim() || 'auto';
  if (!['auto', 'wrk', 'autocannon'].includes(requestedTool)) {
    throw new BenchConfigError(`BENCH_TOOL must be auto, wrk or autocannon (got "${requestedTool}")`);
  }
  const wrk = findWrk();
  if (requestedTool === 'wrk' && !wrk)
    throw new BenchConfigError('BENCH_TOOL=wrk but no wrk binary was found');
  const tool: LoadTool = requestedTool === 'autocannon' || !wrk ? 'autocannon' : 'wrk';
  const logLevel = env.BENCH_LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new BenchConfigError(`BENCH_LOG_LEVEL must be a pino level (got "${logLevel}")`);
  }
  const rate = number(env, 'BENCH_RATE', 1_000, 10, 20_000);
  const node = env.BENCH_NODE?.trim() || process.execPath;
  if (!existsSync(node)) throw new BenchConfigError(`BENCH_NODE: no such file "${node}"`);
  return {
    durationS: number(env, 'BENCH_DURATION_S', 5, 1, 120),
    warmupS: number(env, 'BENCH_WARMUP_S', 2, 0, 60),
    connections: number(env, 'BENCH_CONNECTIONS', 64, 1, 1_000),
    threads: number(env, 'BENCH_THREADS', 2, 1, 16),
    rate,
    rateDurationS: number(env, 'BENCH_RATE_DURATION_S', 3, 1, 60),
    fastFailS: number(env, 'BENCH_FAST_FAIL_S', 3, 1, 4),
    readyStarts: number(env, 'BENCH_READY_STARTS', 10, 1, 100),
    growthUsers: number(env, 'BENCH_GROWTH_USERS', 100_000, 1_000, 10_000_000),
    tool,
    databaseUrl: env.BENCH_DATABASE_URL?.trim() || undefined,
    postgres: flag(env, 'BENCH_POSTGRES', true),
    logLevel,
    skipBuild: flag(env, 'BENCH_SKIP_BUILD', false),
    cpuProf: flag(env, 'BENCH_CPU_PROF', false),
    keepLogs: flag(env, 'BENCH_KEEP_LOGS', false),
    node,
    nodeOptions: env.BENCH_NODE_OPTIONS?.trim() || undefined,
  };
}
