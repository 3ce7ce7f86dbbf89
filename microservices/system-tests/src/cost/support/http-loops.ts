import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK } from '../../support/processes.js';

export interface LoopResult {
  /** Latency of every attempt in ms; a failed or timed-out attempt counts as `timeoutMs`. */
  latenciesMs: number[];
  ok: number;
  failed: number;
  /** Why attempts failed: a status or an error code, with counts. */
  failures: Record<string, number>;
}

interface Attempt {
  status?: number;
  error?: string;
  ms: number;
}

/** One GET or POST with a deadline; never rejects. */
function attempt(
  port: number,
  path: string,
  options: { agent: Agent | false; timeoutMs: number; method?: string; body?: string | undefined },
): Promise<Attempt> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Omit<Attempt, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, ms: performance.now() - started });
    };
    const headers: Record<string, string> = {};
    if (options.agent === false) headers.Connection = 'close';
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const req = request(
      { host: LOOPBACK, port, path, method: options.method ?? 'GET', agent: options.agent, headers },
      (res) => {
        res.resume();
        res.once('end', () => done({ status: res.statusCode ?? 0 }));
        res.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
      },
    );
    req.setTimeout(options.timeoutMs, () => {
      done({ error: 'timeout' });
      req.destroy();
    });
    req.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    req.end(options.body);
  });
}

export interface LoopOptions {
  port: number;
  timeoutMs: number;
  intervalMs: number;
  signal: AbortSignal;
}

function record(result: LoopResult, a: Attempt, timeoutMs: number, ok: boolean): void {
  result.latenciesMs.push(a.error === undefined ? a.ms : Math.max(a.ms, timeoutMs));
  if (ok) {
    result.ok += 1;
    return;
  }
  result.failed += 1;
  const key = a.error ?? String(a.status);
  result.failures[key] = (result.failures[key] ?? 0) + 1;
}

const newResult = (): LoopResult => ({ latenciesMs: [], ok: 0, failed: 0, failures: {} });
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * The kubelet's liveness probe as it calls it: `GET /health/live` on a new connection each time, with the
 * chart's timeout, every `intervalMs` until `signal` aborts.
 */
export async function probeLoop(options: LoopOptions): Promise<LoopResult> {
  const result = newResult();
  while (!options.signal.aborted) {
    const a = await attempt(options.port, '/health/live', { agent: false, timeoutMs: options.timeoutMs });
    record(result, a, options.timeoutMs, a.status === 200);
    await pause(options.intervalMs, options.signal);
  }
  return result;
}

export interface LegitRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** The status that counts as success. */
  expect: number;
}

/**
 * Legitimate traffic beside an attack: `next()` requests, one at a time over a small keep-alive pool (as a
 * load balancer sends them). A request that fails on the network is retried once on a new connection, as
 * load balancers do for a reset reused connection; a second failure counts.
 */
export async function legitLoop(
  options: LoopOptions & { next: (i: number) => LegitRequest },
): Promise<LoopResult> {
  const result = newResult();
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    for (let i = 0; !options.signal.aborted; i += 1) {
      const r = options.next(i);
      const send = () =>
        attempt(options.port, r.path, {
          agent,
          timeoutMs: options.timeoutMs,
          method: r.method,
          body: r.body,
        });
      let a = await send();
      if (a.error !== undefined && a.error !== 'timeout') a = await send();
      record(result, a, options.timeoutMs, a.status === r.expect);
      await pause(options.intervalMs, options.signal);
    }
  } finally {
    agent.destroy();
  }
  return result;
}
