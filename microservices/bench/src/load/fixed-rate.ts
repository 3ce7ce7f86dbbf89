import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { percentile } from '../stats.js';
import { headersOf, type LoadTarget, userBody } from './types.js';

export interface FixedRateOptions {
  /** Requests per second, scheduled at even intervals whatever the server does (open loop). */
  rate: number;
  durationS: number;
  /** Unmeasured lead-in at the same rate (opens the connections). */
  warmupS: number;
  /** Only responses with these statuses count towards the latency percentiles (default: all). */
  measureStatus?: (status: number) => boolean;
  connections?: number;
}

export interface FixedRateResult {
  rate: number;
  scheduled: number;
  completed: number;
  /** Requests that got a response, by status code. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /**
   * Latency from the moment each request was handed to the connection pool, at its scheduled time or as soon
   * after as this process's timers allowed: queueing in the pool, on the wire and in the server all count.
   */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency from the *scheduled* send time: adds this generator's own timer lateness (≈1 ms granularity). */
  p99FromScheduleMs: number;
  /** Requests sent more than 1 ms behind schedule (the generator's own lateness, not the server's). */
  lateSends: number;
}

const IN_FLIGHT_CAP = 2_000;

/**
 * An open-loop pacer (wrk2 is not packaged here): request i is due at start + i/rate and is sent then,
 * whether or not earlier ones have answered, so a slow server shows up as latency instead of quietly
 * lowering the rate (no coordinated omission). undici keep-alive pool of up to 64 connections (requests
 * beyond that wait in the pool, and that wait counts); at most 2,000 in flight, more count as errors.
 */
export async function runFixedRate(target: LoadTarget, options: FixedRateOptions): Promise<FixedRateResult> {
  const { origin, pathname, search } = new URL(target.url);
  const pool = new Pool(origin, {
    connections: options.connections ?? 64,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
    keepAliveTimeout: 30_000,
  });
  try {
    if (options.warmupS > 0) {
      await pace(pool, pathname + search, target, options.rate, options.warmupS, 'w', () => true);
    }
    return await pace(
      pool,
      pathname + search,
      target,
      options.rate,
      options.durationS,
      'm',
      options.measureStatus ?? (() => true),
    );
  } finally {
    await pool.close();
  }
}

async function pace(
  pool: Pool,
  path: string,
  target: LoadTarget,
  rate: number,
  durationS: number,
  phase: string,
  measured: (status: number) => boolean,
): Promise<FixedRateResult> {
  const total = Math.max(1, Math.round(rate * durationS));
  const intervalMs = 1_000 / rate;
  const fromSchedule = new Float64Array(total).fill(Number.NaN);
  const fromSend = new Float64Array(total).fill(Number.NaN);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let completed = 0;
  let lateSends = 0;
  let inFlight = 0;
  const headers = headersOf(target);

  const fire = (i: number, dueAt: number) => {
    const sentAt = performance.now();
    if (sentAt - dueAt > 1) lateSends++;
    inFlight++;
    const body =
      target.uniqueUserPrefix !== undefined
        ? userBody(`${target.uniqueUserPrefix}${phase}`, 0, i)
        : target.body;
    pool
      .request({ path, method: target.method, headers, ...(body !== undefined ? { body } : {}) })
      .then(async (res) => {
        await res.body.dump();
        const end = performance.now();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (measured(res.statusCode)) {
          fromSchedule[i] = end - dueAt;
          fromSend[i] = end - sentAt;
        }
        completed++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => {
        inFlight--;
      });
  };

  const start = performance.now() + 5;
  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      if (inFlight >= IN_FLIGHT_CAP) errors++;
      else fire(next, start + next * intervalMs);
      next++;
    }
    // Timers fire at 1 ms granularity at best; every due request goes out on each wake-up.
    if (next < total) await sleep(Math.max(0, Math.min(1, start + next * intervalMs - performance.now())));
  }
  const drainDeadline = performance.now() + 6_000;
  while (inFlight > 0 && performance.now() < drainDeadline) await sleep(2);

  const sorted = (values: Float64Array) => values.filter((v) => !Number.isNaN(v)).sort();
  const schedule = sorted(fromSchedule);
  const send = sorted(fromSend);
  return {
    rate,
    scheduled: total,
    completed,
    statuses,
    errors,
    p50Ms: percentile(send, 50),
    p99Ms: percentile(send, 99),
    maxMs: send.length > 0 ? (send[send.length - 1] ?? Number.NaN) : Number.NaN,
    p99FromScheduleMs: percentile(schedule, 99),
    lateSends,
  };
}
