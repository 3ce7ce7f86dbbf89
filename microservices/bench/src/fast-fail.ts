import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { BenchConfig } from './config.js';
import { orderBody } from './http.js';
import { type FixedRateResult, runFixedRate } from './load/fixed-rate.js';
import type { ManagedProcess } from './processes.js';

export interface FastFailResult extends FixedRateResult {
  /** POST orders it took to open the breaker, and how long. */
  tripRequests: number;
  tripMs: number;
}

const TRIP_ATTEMPTS = 50;

async function breakerOpen(orderService: ManagedProcess): Promise<boolean> {
  const res = await request(`${orderService.url}/metrics`);
  const text = await res.body.text();
  return /^user_service_circuit_state 1$/m.test(text);
}

/**
 * user-service stopped, breaker open: how fast does order-service say 503? Stops `userService`, sends
 * POST orders until the breaker gauge reads open, then runs the fixed-rate pacer for `fastFailS` seconds —
 * inside the breaker's default 5 s open window — and takes percentiles over the 503 answers only.
 * Use an order-service with USER_CACHE_ENABLED=false: with the cache on, recently validated users are
 * (correctly) accepted from the cache instead of failing.
 */
export async function measureFastFail(
  config: BenchConfig,
  userService: ManagedProcess,
  orderService: ManagedProcess,
  userId: string,
): Promise<FastFailResult> {
  await userService.stop('SIGTERM', 10_000);
  const body = orderBody(userId);
  const started = performance.now();
  let tripRequests = 0;
  while (!(await breakerOpen(orderService))) {
    if (++tripRequests > TRIP_ATTEMPTS)
      throw new Error(`the breaker did not open after ${TRIP_ATTEMPTS} orders`);
    const res = await request(`${orderService.url}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.dump();
    if (res.statusCode !== 503)
      throw new Error(`with user-service stopped, POST order answered ${res.statusCode}`);
    await sleep(1);
  }
  const tripMs = performance.now() - started;
  const result = await runFixedRate(
    { url: `${orderService.url}/api/v1/orders`, method: 'POST', body },
    { rate: config.rate, durationS: config.fastFailS, warmupS: 0.25, measureStatus: (s) => s === 503 },
  );
  return { ...result, tripRequests, tripMs };
}
