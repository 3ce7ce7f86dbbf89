/** What a dependency check reports. */
export interface CheckResult {
  status: 'healthy' | 'unhealthy';
  latency_ms: number;
  /** Safe to publish: `timed out`, an error code such as `ECONNREFUSED`, or `failed`. Never a message. */
  detail?: string;
}

/** A failed check's full error, for the log only: messages can carry hosts, users or connection strings. */
export interface CheckFailure {
  check: string;
  error: unknown;
}

export interface HealthCheck {
  /** Key under `dependencies` / `checks`, e.g. `store`, `user-service`. */
  name: string;
  /**
   * Critical checks make readiness 503 when they fail (this process cannot serve without them).
   * Non-critical ones only turn readiness into `degraded`, so an outage upstream never cascades
   * into every caller being pulled out of rotation.
   */
  critical: boolean;
  /** Resolves when healthy; rejects (or times out) when not. */
  run: (signal: AbortSignal) => Promise<void>;
}

/** Runs every check concurrently, each bounded by `timeoutMs`. */
export async function runChecks(
  checks: readonly HealthCheck[],
  timeoutMs: number,
  onFailure: (failure: CheckFailure) => void = () => {},
): Promise<Record<string, CheckResult & { critical: boolean }>> {
  const entries = await Promise.all(
    checks.map(async (check) => {
      const started = performance.now();
      const signal = AbortSignal.timeout(timeoutMs);
      let result: CheckResult;
      try {
        await Promise.race([check.run(signal), rejectOnAbort(signal)]);
        result = { status: 'healthy', latency_ms: elapsed(started) };
      } catch (err) {
        result = { status: 'unhealthy', latency_ms: elapsed(started), detail: describe(err, signal) };
        onFailure({ check: check.name, error: err });
      }
      return [check.name, { ...result, critical: check.critical }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timed out';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'failed';
}
